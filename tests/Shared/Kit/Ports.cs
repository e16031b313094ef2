using System.Net;
using System.Net.Sockets;

namespace Sndctl.Provisioning.Testing;

/// <summary>Ports for servers the tests start on loopback.</summary>
internal static class Ports
{
    /// <summary>A port free for both UDP and TCP on 127.0.0.1 (a DNS server listens on both; HTTP needs TCP).</summary>
    public static int Free()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            try
            {
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}
