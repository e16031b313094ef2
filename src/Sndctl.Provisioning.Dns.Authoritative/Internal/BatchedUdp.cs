using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sndctl.Provisioning.Dns.Authoritative.Internal;

/// <summary>
/// Linux's recvmmsg/sendmmsg for the UDP receive loop: up to <see cref="Batch"/> datagrams read and their answers
/// sent with one system call each instead of two calls per query. On a virtual machine the system call itself is
/// most of a query's cost (the profile in docs/benchmarks.md: half the host's time was the kernel's entry and exit
/// around recvmsg/sendmsg), which is how Knot DNS serves its queries too. The socket stays in blocking mode with a
/// receive timeout, so a loop notices that the socket was closed within a second.
/// </summary>
internal sealed unsafe partial class BatchedUdp : IDisposable
{
    public const int Batch = 32;

    private const int AddressSize = 32; // sockaddr_in6 is 28
    private const int MsgWaitForOne = 0x10000;
    private const int MsgTrunc = 0x20;
    private const int EAgain = 11;
    private const int EIntr = 4;

    private readonly int _querySize;
    private readonly int _responseSize;
    private readonly byte* _queries;
    private readonly byte* _responses;
    private readonly byte* _addresses;
    private readonly IoVec* _receiveVectors;
    private readonly IoVec* _sendVectors;
    private readonly MMsgHdr* _received;
    private readonly MMsgHdr* _sending;

    public BatchedUdp(int querySize, int responseSize)
    {
        _querySize = querySize;
        _responseSize = responseSize;
        _queries = (byte*)NativeMemory.Alloc((nuint)(Batch * querySize));
        _responses = (byte*)NativeMemory.Alloc((nuint)(Batch * responseSize));
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)(Batch * AddressSize));
        _receiveVectors = (IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(IoVec)));
        _sendVectors = (IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(IoVec)));
        _received = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(MMsgHdr)));
        _sending = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(MMsgHdr)));
    }

    /// <summary>Whether the batched calls can be used here: Linux on a 64-bit process (the structures' layout).</summary>
    public static bool Supported => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>
    /// Waits for at least one datagram and reads as many as are there (up to <see cref="Batch"/>); returns how many,
    /// 0 when the wait timed out or was interrupted, -1 when the socket is gone.
    /// </summary>
    public int Receive(SafeHandle socket)
    {
        for (var i = 0; i < Batch; i++)
        {
            _receiveVectors[i] = new IoVec { Base = _queries + (i * _querySize), Length = (nuint)_querySize };
            _received[i] = new MMsgHdr
            {
                Header = new MsgHdr { Name = _addresses + (i * AddressSize), NameLength = AddressSize, Vectors = _receiveVectors + i, VectorCount = 1 },
            };
        }

        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            var count = recvmmsg((int)socket.DangerousGetHandle(), _received, Batch, MsgWaitForOne, null);
            if (count >= 0)
            {
                return count;
            }

            var error = Marshal.GetLastPInvokeError();
            return error is EAgain or EIntr ? 0 : -1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>The <paramref name="index"/>-th datagram read; empty when it was cut (larger than a query can be).</summary>
    public Span<byte> Query(int index)
        => (_received[index].Header.Flags & MsgTrunc) != 0 ? default : new Span<byte>(_queries + (index * _querySize), (int)_received[index].Length);

    /// <summary>Where the <paramref name="slot"/>-th answer of this batch is written.</summary>
    public Span<byte> Response(int slot) => new(_responses + (slot * _responseSize), _responseSize);

    /// <summary>The sender of the <paramref name="index"/>-th datagram (for the rate limiter and the general path).</summary>
    public IPEndPoint Sender(int index, IPEndPoint local)
    {
        var length = (int)_received[index].Header.NameLength;
        var family = local.AddressFamily == AddressFamily.InterNetworkV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var address = new SocketAddress(family, Math.Max(length, family == AddressFamily.InterNetworkV6 ? 28 : 16));
        new ReadOnlySpan<byte>(_addresses + (index * AddressSize), Math.Min(length, AddressSize)).CopyTo(address.Buffer.Span);
        return (IPEndPoint)local.Create(address);
    }

    /// <summary>Queues the answer in <paramref name="slot"/> (<paramref name="length"/> bytes) to the sender of datagram <paramref name="index"/>.</summary>
    public void Answer(int slot, int index, int length)
    {
        _sendVectors[slot] = new IoVec { Base = _responses + (slot * _responseSize), Length = (nuint)length };
        _sending[slot] = new MMsgHdr
        {
            Header = new MsgHdr { Name = _addresses + (index * AddressSize), NameLength = _received[index].Header.NameLength, Vectors = _sendVectors + slot, VectorCount = 1 },
        };
    }

    /// <summary>Sends the <paramref name="count"/> answers queued; returns how many could not be sent.</summary>
    public int Send(SafeHandle socket, int count)
    {
        var added = false;
        var sent = 0;
        var failed = 0;
        try
        {
            socket.DangerousAddRef(ref added);
            while (sent < count)
            {
                var result = sendmmsg((int)socket.DangerousGetHandle(), _sending + sent, (uint)(count - sent), 0);
                if (result > 0)
                {
                    sent += result;
                }
                else if (result < 0 && Marshal.GetLastPInvokeError() == EIntr)
                {
                    continue;
                }
                else
                {
                    // The first one could not go (an unreachable sender, a full buffer): skip it, send the rest.
                    sent++;
                    failed++;
                }
            }

            return failed;
        }
        catch (ObjectDisposedException)
        {
            return failed + count - sent;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        NativeMemory.Free(_queries);
        NativeMemory.Free(_responses);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_receiveVectors);
        NativeMemory.Free(_sendVectors);
        NativeMemory.Free(_received);
        NativeMemory.Free(_sending);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int recvmmsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sendmmsg(int fd, MMsgHdr* messages, uint count, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }
}
