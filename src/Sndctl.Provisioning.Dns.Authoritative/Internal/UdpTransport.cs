using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// The UDP transport for ARSoft's <see cref="DnsServer"/>: like the library's own, but packets that cannot
/// be a query (shorter than a header, or with the response bit set: answering those would let two servers
/// bounce packets at each other) are dropped and counted before they are parsed, and queries up to the
/// EDNS(0) payload size we advertise are read whole (the library's reads 512 bytes). Answers pass the
/// response rate limiter (<see cref="ResponseRateLimiter"/>) on the way out.
/// </summary>
internal sealed class UdpTransport : IServerTransport
{
    /// <summary>The largest query read: the UDP payload size we advertise (a query is far smaller).</summary>
    private const int MaxQuerySize = ZoneResponder.MaxUdpPayload;
    private const int HeaderSize = 12;

    private readonly IPEndPoint _endpoint;
    private readonly Socket _socket;
    private readonly Action _dropped;
    private readonly ResponseRateLimiter _limiter;
    private readonly Action<string> _limited;

    public UdpTransport(IPEndPoint endpoint, Action dropped, ResponseRateLimiter limiter, Action<string> limited)
    {
        _endpoint = endpoint;
        _dropped = dropped;
        _limiter = limiter;
        _limited = limited;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            _socket.DualMode = true;
        }
    }

    public ushort DefaultAllowedResponseSize => 512;

    public bool SupportsMultipleResponses => false;

    public bool AllowTruncatedResponses => true;

    public TransportProtocol TransportProtocol => TransportProtocol.Udp;

    public void Bind() => _socket.Bind(_endpoint);

    public void Close() => _socket.Close();

    public void Dispose() => _socket.Dispose();

    public async Task<IServerConnection?> AcceptConnectionAsync(CancellationToken token = default)
    {
        try
        {
            var buffer = new byte[MaxQuerySize + DnsRawPackage.LENGTH_HEADER_LENGTH];
            var received = await _socket.ReceiveFromAsync(
                new ArraySegment<byte>(buffer, DnsRawPackage.LENGTH_HEADER_LENGTH, MaxQuerySize),
                SocketFlags.None,
                _endpoint.AddressFamily == AddressFamily.InterNetwork ? new IPEndPoint(IPAddress.Any, 0) : new IPEndPoint(IPAddress.IPv6Any, 0),
                token).ConfigureAwait(false);
            if (received.ReceivedBytes < HeaderSize || (buffer[DnsRawPackage.LENGTH_HEADER_LENGTH + 2] & 0x80) != 0)
            {
                _dropped();
                return null;
            }

            buffer[0] = (byte)(received.ReceivedBytes >> 8);
            buffer[1] = (byte)received.ReceivedBytes;
            return new Connection(this, new DnsReceivedRawPackage(buffer, (IPEndPoint)received.RemoteEndPoint, _endpoint));
        }
        catch (Exception)
        {
            // Closed, cancelled, an ICMP error from an earlier send, or a packet the library cannot read (it
            // throws what its parser meets). Nothing may escape: the library's receive loop would end.
            _dropped();
            return null;
        }
    }

    private sealed class Connection(UdpTransport owner, DnsReceivedRawPackage package) : IServerConnection
    {
        private bool _read;

        public IServerTransport Transport => owner;

        public IPEndPoint RemoteEndPoint => package.RemoteEndpoint;

        public IPEndPoint LocalEndPoint => package.LocalEndpoint;

        public bool CanRead => !_read;

        public Task<bool> InitializeAsync(CancellationToken token) => Task.FromResult(true);

        public Task<DnsReceivedRawPackage?> ReceiveAsync(CancellationToken token)
        {
            _read = true;
            return Task.FromResult<DnsReceivedRawPackage?>(package);
        }

        public async Task<bool> SendAsync(DnsRawPackage response, CancellationToken token)
        {
            try
            {
                var data = response.ToArraySegment(false);
                switch (owner._limiter.Decide(package.RemoteEndpoint.Address, data))
                {
                    case RateLimitAction.Drop:
                        owner._limited("dropped");
                        return true;
                    case RateLimitAction.Slip:
                        owner._limited("slipped");
                        var truncated = data.ToArray();
                        var length = ResponseRateLimiter.Truncate(truncated);
                        return length > 0 && await owner._socket.SendToAsync(truncated.AsMemory(0, length), SocketFlags.None, package.RemoteEndpoint, token).ConfigureAwait(false) == length;
                }

                return await owner._socket.SendToAsync(data, SocketFlags.None, package.RemoteEndpoint, token).ConfigureAwait(false) == response.Length;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return false;
            }
        }

        public void Dispose()
        {
        }
    }
}
