#!/usr/bin/env python3
"""Get a device's certificate from Sndctl.Provisioning with a key made on the device.

Python's standard library and the openssl command only. Environment: SNDCTL_SERVER (https://provision.example.com),
SNDCTL_DEVICE_ID, SNDCTL_HOSTNAME (<device ID>.<base domain>), SNDCTL_SECRET_FILE, SNDCTL_DIR (where key.pem and
cert.pem go). Run it at boot and then daily: it renews when the server says so and is a no-op otherwise.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

server = os.environ["SNDCTL_SERVER"].rstrip("/")
device_id = os.environ["SNDCTL_DEVICE_ID"]
hostname = os.environ["SNDCTL_HOSTNAME"]
directory = os.environ.get("SNDCTL_DIR", "/etc/sndctl/tls")
with open(os.environ["SNDCTL_SECRET_FILE"]) as f:
    secret = f.read().strip()


def post(path, body):
    request = urllib.request.Request(server + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "X-Device-Secret": secret})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


# The key is made here and never leaves the device.
os.makedirs(directory, mode=0o700, exist_ok=True)
key = os.path.join(directory, "key.pem")
if not os.path.exists(key):
    os.umask(0o077)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], check=True)
csr = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + hostname,
                      "-addext", "subjectAltName=DNS:" + hostname], check=True, capture_output=True, text=True).stdout

for attempt in range(10):
    status, headers, body = post("/api/v1/register", {"deviceId": device_id, "csr": csr})
    if status == 200:
        break
    if status in (202, 429, 503):  # being issued, queued, limited or unavailable: call again after Retry-After
        time.sleep(min(int(headers.get("Retry-After", "60")), 3600))
        continue
    sys.exit(f"refused ({status}): {body.get('detail')}")
else:
    sys.exit("no certificate yet; run again later")

# Leaf first, then the chain; replaced atomically.
certificate = os.path.join(directory, "cert.pem")
with open(certificate + ".tmp", "w") as f:
    f.write(body["certificate"])
os.replace(certificate + ".tmp", certificate)
print(f"{body['hostname']}: certificate until {body['notAfter']}, renew after {body['renewAfter']}")
