using System.Net;
using ARSoft.Tools.Net.Dns;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// ARSoft's TCP transport with a cap on connections served at once: a client beyond the cap waits in the
/// listen backlog until one closes, so a crowd of idle connections cannot grow the server without bound.
/// A connection counts until the client closes it, goes idle (or sends too slowly) past the idle timeout, or fails.
/// </summary>
internal sealed class BoundedTcpTransport(IPEndPoint endpoint, int maxConnections, TimeSpan idleTimeout) : IServerTransport
{
    // A client gets the idle timeout both between queries and to finish sending one: a slow or silent
    // client gives its slot back within that time.
    private readonly TcpServerTransport _inner = new(endpoint, timeout: (int)idleTimeout.TotalMilliseconds, keepAlive: (int)idleTimeout.TotalMilliseconds);
    private readonly SemaphoreSlim _slots = new(maxConnections, maxConnections);

    public ushort DefaultAllowedResponseSize => _inner.DefaultAllowedResponseSize;

    public bool SupportsMultipleResponses => _inner.SupportsMultipleResponses;

    public bool AllowTruncatedResponses => _inner.AllowTruncatedResponses;

    public TransportProtocol TransportProtocol => _inner.TransportProtocol;

    public void Bind() => _inner.Bind();

    public void Close() => _inner.Close();

    public async Task<IServerConnection?> AcceptConnectionAsync(CancellationToken token = default)
    {
        try
        {
            await _slots.WaitAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The server is stopping.
            return null;
        }

        var connection = await _inner.AcceptConnectionAsync(token).ConfigureAwait(false);
        if (connection is null)
        {
            _slots.Release();
            return null;
        }

        return new Connection(connection, this);
    }

    public void Dispose()
    {
        _inner.Dispose();
        _slots.Dispose();
    }

    private sealed class Connection(IServerConnection inner, BoundedTcpTransport owner) : IServerConnection
    {
        private int _closed;

        public IServerTransport Transport => owner;

        public IPEndPoint RemoteEndPoint => inner.RemoteEndPoint;

        public IPEndPoint LocalEndPoint => inner.LocalEndPoint;

        public bool CanRead => _closed == 0 && inner.CanRead;

        public Task<bool> InitializeAsync(CancellationToken token) => inner.InitializeAsync(token);

        public async Task<DnsReceivedRawPackage?> ReceiveAsync(CancellationToken token)
        {
            var package = await inner.ReceiveAsync(token).ConfigureAwait(false);
            if (package is null)
            {
                // The client closed, went idle or sent garbage: the library stops reading, and it never
                // disposes a connection whose last read came back empty, so the slot is given back here.
                Dispose();
            }

            return package;
        }

        public Task<bool> SendAsync(DnsRawPackage package, CancellationToken token) => inner.SendAsync(package, token);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                inner.Dispose();
                try
                {
                    owner._slots.Release();
                }
                catch (ObjectDisposedException)
                {
                    // The server stopped.
                }
            }
        }
    }
}
