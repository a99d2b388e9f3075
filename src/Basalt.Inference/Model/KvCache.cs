using Basalt.Tensors;
using Basalt.Tensors.Ops;

namespace Basalt.Inference.Model;

/// <summary>
/// Keys and values of every layer for one sequence: [layer][kv head][position][head dim], each KV head's positions
/// one contiguous run, so attention streams one head's keys (or values) sequentially. Laid out position by position,
/// a head's 128 bytes a position sat between the other heads' and one token's attention at 4000 positions spent half
/// its time widening keys and values out of memory. F16 by default, as llama.cpp keeps it; F32 on request.
/// </summary>
public sealed class KvCache
{
    private readonly Half[][]? _k16, _v16;
    private readonly float[][]? _k32, _v32;
    private readonly int _kvDim, _headDim;

    /// <summary>Allocates room for <paramref name="capacity"/> positions.</summary>
    public KvCache(ModelConfig config, int capacity, bool useF16 = true)
    {
        Capacity = capacity;
        UsesF16 = useF16;
        _kvDim = config.KvDim;
        _headDim = config.HeadDim;
        long size = (long)capacity * _kvDim;
        if (useF16)
        {
            _k16 = NewLayers<Half>(config.BlockCount, size);
            _v16 = NewLayers<Half>(config.BlockCount, size);
        }
        else
        {
            _k32 = NewLayers<float>(config.BlockCount, size);
            _v32 = NewLayers<float>(config.BlockCount, size);
        }
    }

    private static T[][] NewLayers<T>(int layers, long size) => Enumerable.Range(0, layers).Select(_ => new T[size]).ToArray();

    private int Layers => _k16?.Length ?? _k32!.Length;

    /// <summary>Positions the cache can hold.</summary>
    public int Capacity { get; }

    /// <summary>Whether entries are stored as F16.</summary>
    public bool UsesF16 { get; }

    /// <summary>Positions filled so far.</summary>
    public int Length { get; set; }

    /// <summary>Stores the key and value of <paramref name="position"/> in <paramref name="layer"/>.</summary>
    public void Store(int layer, int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        for (int e = 0; e < _kvDim; e += _headDim)
        {
            int at = Index(position, e);
            if (UsesF16)
            {
                FloatConversions.NarrowToHalf(key.Slice(e, _headDim), _k16![layer].AsSpan(at, _headDim));
                FloatConversions.NarrowToHalf(value.Slice(e, _headDim), _v16![layer].AsSpan(at, _headDim));
            }
            else
            {
                key.Slice(e, _headDim).CopyTo(_k32![layer].AsSpan(at));
                value.Slice(e, _headDim).CopyTo(_v32![layer].AsSpan(at));
            }
        }
    }

    /// <summary>Where element <paramref name="element"/> (of kv_dim) of <paramref name="position"/> lies in a layer's array.</summary>
    private int Index(int position, int element) => (element / _headDim * Capacity + position) * _headDim + element % _headDim;

    /// <summary>Copies the keys and values of positions [0, <paramref name="count"/>) of every layer from <paramref name="source"/>, and makes that the length.</summary>
    public void CopyFrom(KvCache source, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.UsesF16 != UsesF16 || source._kvDim != _kvDim || source._headDim != _headDim || source.Layers != Layers)
            throw new ArgumentException("The caches differ in type or shape.", nameof(source));
        if (count < 0 || count > source.Length || count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The source holds {source.Length} positions and this cache room for {Capacity}.");
        // Each KV head's first count positions are one run; source and target share the shape but not the capacity.
        for (int l = 0; l < Layers; l++)
            for (int e = 0; e < _kvDim; e += _headDim)
            {
                int from = source.Index(0, e), to = Index(0, e), size = count * _headDim;
                if (UsesF16)
                {
                    Array.Copy(source._k16![l], from, _k16![l], to, size);
                    Array.Copy(source._v16![l], from, _v16![l], to, size);
                }
                else
                {
                    Array.Copy(source._k32![l], from, _k32![l], to, size);
                    Array.Copy(source._v32![l], from, _v32![l], to, size);
                }
            }
        Length = count;
    }

    /// <summary>Reads <c>into.Length</c> floats of the key at <paramref name="position"/>, starting at element <paramref name="offset"/>.</summary>
    public void ReadKey(int layer, int position, int offset, Span<float> into) => Read(_k16, _k32, layer, position, offset, into);

    /// <summary>Reads the value at <paramref name="position"/>, like <see cref="ReadKey"/>.</summary>
    public void ReadValue(int layer, int position, int offset, Span<float> into) => Read(_v16, _v32, layer, position, offset, into);

    /// <summary>
    /// Asks the CPU to start loading the keys and values of positions [0, <paramref name="count"/>) of the KV head that
    /// holds element <paramref name="offset"/>, so that their cache misses overlap rather than come one stretch at a time.
    /// A hint only: nothing is read.
    /// </summary>
    public void Prefetch(int layer, int count, int offset)
    {
        if (count <= 0) return;
        int at = Index(0, offset - offset % _headDim), length = Math.Min(count, Capacity) * _headDim;
        if (UsesF16)
        {
            VectorOps.Prefetch<Half>(_k16![layer].AsSpan(at, length));
            VectorOps.Prefetch<Half>(_v16![layer].AsSpan(at, length));
        }
        else
        {
            VectorOps.Prefetch<float>(_k32![layer].AsSpan(at, length));
            VectorOps.Prefetch<float>(_v32![layer].AsSpan(at, length));
        }
    }

    /// <summary>
    /// Reads <paramref name="width"/> floats at element <paramref name="offset"/> of the keys at positions
    /// [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) (one head's keys, say), one after
    /// another into <paramref name="into"/>.
    /// </summary>
    public void ReadKeys(int layer, int start, int count, int offset, int width, Span<float> into) => ReadRows(_k16, _k32, layer, start, count, offset, width, into);

    /// <summary>Reads values at positions [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>), like <see cref="ReadKeys"/>.</summary>
    public void ReadValues(int layer, int start, int count, int offset, int width, Span<float> into) => ReadRows(_v16, _v32, layer, start, count, offset, width, into);

    private void ReadRows(Half[][]? h, float[][]? f, int layer, int start, int count, int offset, int width, Span<float> into)
    {
        if (offset % _headDim + width <= _headDim)
        {
            // Within one head: rows _headDim apart, one run when the whole head is read.
            int at = Index(start, offset);
            if (UsesF16) FloatConversions.WidenHalfRows(h![layer].AsSpan(at), _headDim, count, width, into);
            else for (int t = 0; t < count; t++) f![layer].AsSpan(at + t * _headDim, width).CopyTo(into.Slice(t * width, width));
            return;
        }
        for (int t = 0; t < count; t++) Read(h, f, layer, start + t, offset, into.Slice(t * width, width));
    }

    private void Read(Half[][]? h, float[][]? f, int layer, int position, int offset, Span<float> into)
    {
        // The elements [offset, offset + into.Length) run across heads in pieces of at most a head.
        for (int done = 0; done < into.Length;)
        {
            int e = offset + done, n = Math.Min(into.Length - done, _headDim - e % _headDim);
            int at = Index(position, e);
            if (UsesF16) System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(h![layer].AsSpan(at, n), into.Slice(done, n));
            else f![layer].AsSpan(at, n).CopyTo(into.Slice(done, n));
            done += n;
        }
    }
}
