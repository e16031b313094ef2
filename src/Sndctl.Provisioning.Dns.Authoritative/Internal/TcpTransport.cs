using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// DNS over TCP (RFC 7766) for ARSoft's <see cref="DnsServer"/>, bounded against clients that hold connections:
/// at most <c>maxConnections</c> served at once (further clients wait in the listen backlog), at most
/// <c>maxPerClient</c> from one client network (IPv4 /24, IPv6 /56; more are closed at once), and each query
/// must arrive whole within <c>messageTimeout</c> of the connection or of the previous answer, however the
/// client paces its bytes (a client sending one byte every few seconds does not keep its slot).
/// </summary>
internal sealed class TcpTransport : IServerTransport
{
    private readonly IPEndPoint _endpoint;
    private readonly Socket _listener;
    private readonly SemaphoreSlim _slots;
    private readonly int _maxPerClient;
    private readonly TimeSpan _messageTimeout;
    private readonly Action<string> _refused;
    private readonly Dictionary<UInt128, int> _perClient = [];
    private readonly Lock _lock = new();

    public TcpTransport(IPEndPoint endpoint, int maxConnections, int maxPerClient, TimeSpan messageTimeout, Action<string> refused)
    {
        _endpoint = endpoint;
        _maxPerClient = Math.Min(maxPerClient, maxConnections);
        _messageTimeout = messageTimeout;
        _refused = refused;
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            _listener.DualMode = true;
        }
    }

    public ushort DefaultAllowedResponseSize => ushort.MaxValue;

    public bool SupportsMultipleResponses => false;

    public bool AllowTruncatedResponses => false;

    public TransportProtocol TransportProtocol => TransportProtocol.Tcp;

    public void Bind()
    {
        _listener.Bind(_endpoint);
        _listener.Listen(512);
    }

    public void Close() => _listener.Close();

    public void Dispose()
    {
        _listener.Dispose();
        _slots.Dispose();
    }

    public async Task<IServerConnection?> AcceptConnectionAsync(CancellationToken token = default)
    {
        try
        {
            await _slots.WaitAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            return null; // stopping
        }

        Socket socket;
        try
        {
            socket = await _listener.AcceptAsync(token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Stopping, or a connection reset before it was accepted: nothing may escape the library's accept loop.
            ReleaseSlot();
            return null;
        }

        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        var network = NetworkOf(remote.Address);
        lock (_lock)
        {
            var count = _perClient.GetValueOrDefault(network);
            if (count >= _maxPerClient)
            {
                socket.Dispose();
                ReleaseSlot();
                _refused("tcp-per-client");
                return null;
            }

            _perClient[network] = count + 1;
        }

        socket.NoDelay = true;
        return new Connection(this, socket, remote, (IPEndPoint)socket.LocalEndPoint!, network);
    }

    private void Closed(UInt128 network)
    {
        lock (_lock)
        {
            if (_perClient.TryGetValue(network, out var count) && count > 1)
            {
                _perClient[network] = count - 1;
            }
            else
            {
                _perClient.Remove(network);
            }
        }

        ReleaseSlot();
    }

    private void ReleaseSlot()
    {
        try
        {
            _slots.Release();
        }
        catch (ObjectDisposedException)
        {
            // The server stopped.
        }
    }

    /// <summary>The client network a connection counts against: IPv4 /24, IPv6 /56 (one site).</summary>
    internal static UInt128 NetworkOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        return length == 4
            ? ((UInt128)1 << 127) | (BinaryPrimitives.ReadUInt32BigEndian(bytes) & 0xFFFFFF00)
            : BinaryPrimitives.ReadUInt128BigEndian(bytes) & ~(((UInt128)1 << 72) - 1);
    }

    private sealed class Connection(TcpTransport owner, Socket socket, IPEndPoint remote, IPEndPoint local, UInt128 network) : IServerConnection
    {
        private int _closed;

        public IServerTransport Transport => owner;

        public IPEndPoint RemoteEndPoint => remote;

        public IPEndPoint LocalEndPoint => local;

        public bool CanRead => Volatile.Read(ref _closed) == 0;

        public Task<bool> InitializeAsync(CancellationToken token) => Task.FromResult(true);

        public async Task<DnsReceivedRawPackage?> ReceiveAsync(CancellationToken token)
        {
            // One deadline for the whole message, length prefix included: it does not restart with each byte.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(owner._messageTimeout);
            try
            {
                var prefix = new byte[DnsRawPackage.LENGTH_HEADER_LENGTH];
                if (!await ReadExactlyAsync(prefix, deadline.Token).ConfigureAwait(false))
                {
                    Dispose();
                    return null;
                }

                var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
                if (length < 12)
                {
                    Dispose(); // shorter than a DNS header: not a query
                    return null;
                }

                var buffer = new byte[length + DnsRawPackage.LENGTH_HEADER_LENGTH];
                prefix.CopyTo(buffer, 0);
                if (!await ReadExactlyAsync(buffer.AsMemory(DnsRawPackage.LENGTH_HEADER_LENGTH), deadline.Token).ConfigureAwait(false))
                {
                    Dispose();
                    return null;
                }

                return new DnsReceivedRawPackage(buffer, remote, local);
            }
            catch (Exception)
            {
                // The deadline passed, the client reset, or the server stopped. The library stops reading after
                // an empty read and never disposes such a connection itself, so its slot is given back here.
                Dispose();
                return null;
            }
        }

        public async Task<bool> SendAsync(DnsRawPackage package, CancellationToken token)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(owner._messageTimeout);
            try
            {
                var data = package.ToArraySegment(true);
                await socket.SendAsync(data.AsMemory(0, package.Length + DnsRawPackage.LENGTH_HEADER_LENGTH), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                return true;
            }
            catch (Exception)
            {
                Dispose(); // a client that does not read its answers in time loses the connection
                return false;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                socket.Dispose();
                owner.Closed(network);
            }
        }

        private async Task<bool> ReadExactlyAsync(Memory<byte> buffer, CancellationToken token)
        {
            while (buffer.Length > 0)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                if (read == 0)
                {
                    return false;
                }

                buffer = buffer[read..];
            }

            return true;
        }
    }
}
