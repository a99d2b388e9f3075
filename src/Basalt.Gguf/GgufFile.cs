using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Basalt.Tensors;

namespace Basalt.Gguf;

/// <summary>
/// An open GGUF file: header, metadata, tensor descriptors, and zero-copy views of tensor data over
/// a read-only memory mapping. Dispose it to unmap the file; spans obtained earlier become invalid.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Alignment of the data section and of each tensor when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufFile(string path, byte* data, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, GCHandle pin)
    {
        Path = path;
        _base = data;
        Length = length;
        _map = map;
        _view = view;
        _pin = pin;
        try
        {
            var parsed = GgufParser.Parse(new GgufCursor(data, length, path));
            Version = parsed.Version;
            Metadata = parsed.Metadata;
            Tensors = parsed.Tensors;
            Alignment = parsed.Alignment;
            DataOffset = parsed.DataOffset;
            _tensorsByName = parsed.Tensors.ToDictionary(t => t.Name);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Path of the file, or the name given to an in-memory buffer.</summary>
    public string Path { get; }

    /// <summary>Total size in bytes.</summary>
    public long Length { get; }

    /// <summary>Format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>All key/value pairs, in file order.</summary>
    public GgufMetadata Metadata { get; }

    /// <summary>Tensor descriptors, in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Alignment of the data section (<c>general.alignment</c>, or 32).</summary>
    public int Alignment { get; }

    /// <summary>Absolute byte offset where tensor data begins.</summary>
    public long DataOffset { get; }

    /// <summary>Memory-maps and parses a GGUF file.</summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static GgufFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"Model file not found: {path}", path);
        if (info.Length == 0) throw new GgufFormatException(path, 0, "the 4-byte magic \"GGUF\"", "an empty file");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new GgufFile(path, p + view.PointerOffset, info.Length, map, view, default);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Parses a GGUF image held in memory. The array is pinned until the file is disposed.</summary>
    public static GgufFile Parse(byte[] data, string name = "<memory>")
    {
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        return new GgufFile(name, (byte*)pin.AddrOfPinnedObject(), data.Length, null, null, pin);
    }

    /// <summary>Looks a tensor up by name.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>The tensor's bytes, viewed in place. Valid until the file is disposed.</summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        long size = tensor.ByteSize;
        if (size > int.MaxValue) throw new NotSupportedException($"Tensor {tensor.Name} has {size} bytes; use GetTensorPointer for tensors over 2 GiB.");
        return new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)size);
    }

    /// <summary>Address of the tensor's first byte in the mapping. Valid until the file is disposed.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + DataOffset + tensor.Offset;
    }

    /// <summary>
    /// Tells the kernel this process no longer needs the tensor's mapped pages resident (Linux <c>madvise</c>
    /// MADV_DONTNEED on the whole pages inside it): they leave the process's resident set but stay in the page cache,
    /// and a later read maps them back in. For tensors whose bytes were copied elsewhere (repacked weights), so that
    /// resident memory stays near one copy of the model. Does nothing elsewhere or for files parsed from memory.
    /// </summary>
    public void ReleaseResidentPages(GgufTensorInfo tensor)
    {
        if (_view is null || !OperatingSystem.IsLinux()) return;
        long page = Environment.SystemPageSize;
        long start = (long)GetTensorPointer(tensor), end = start + tensor.ByteSize;
        long first = (start + page - 1) / page * page, last = end / page * page;
        if (last > first) _ = Madvise((void*)first, (nuint)(last - first), MadviseDontNeed);
    }

    private const int MadviseDontNeed = 4;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(void* address, nuint length, int advice);

    /// <summary>The whole file as a span (for hashing, copying, writing back).</summary>
    public ReadOnlySpan<byte> RawBytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_base == null, this);
            if (Length > int.MaxValue) throw new NotSupportedException("Files over 2 GiB have no single span view.");
            return new ReadOnlySpan<byte>(_base, (int)Length);
        }
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        if (_pin.IsAllocated) _pin.Free();
    }
}
