using Basalt.Tensors;

namespace Basalt.Inference.Model;

/// <summary>
/// Keys and values of every layer for one sequence: [layer][position × kv_dim]. F16 by default, as
/// llama.cpp keeps it; F32 on request.
/// </summary>
public sealed class KvCache
{
    private readonly Half[][]? _k16, _v16;
    private readonly float[][]? _k32, _v32;
    private readonly int _kvDim;

    /// <summary>Allocates room for <paramref name="capacity"/> positions.</summary>
    public KvCache(ModelConfig config, int capacity, bool useF16 = true)
    {
        Capacity = capacity;
        UsesF16 = useF16;
        _kvDim = config.KvDim;
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
        int at = position * _kvDim;
        if (UsesF16)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(key[.._kvDim], _k16![layer].AsSpan(at, _kvDim));
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(value[.._kvDim], _v16![layer].AsSpan(at, _kvDim));
        }
        else
        {
            key[.._kvDim].CopyTo(_k32![layer].AsSpan(at));
            value[.._kvDim].CopyTo(_v32![layer].AsSpan(at));
        }
    }

    /// <summary>Copies the keys and values of positions [0, <paramref name="count"/>) of every layer from <paramref name="source"/>, and makes that the length.</summary>
    public void CopyFrom(KvCache source, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.UsesF16 != UsesF16 || source._kvDim != _kvDim || source.Layers != Layers)
            throw new ArgumentException("The caches differ in type or shape.", nameof(source));
        if (count < 0 || count > source.Length || count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The source holds {source.Length} positions and this cache room for {Capacity}.");
        int size = count * _kvDim;
        for (int l = 0; l < Layers; l++)
        {
            if (UsesF16)
            {
                Array.Copy(source._k16![l], _k16![l], size);
                Array.Copy(source._v16![l], _v16![l], size);
            }
            else
            {
                Array.Copy(source._k32![l], _k32![l], size);
                Array.Copy(source._v32![l], _v32![l], size);
            }
        }
        Length = count;
    }

    /// <summary>Reads <c>into.Length</c> floats of the key at <paramref name="position"/>, starting at element <paramref name="offset"/>.</summary>
    public void ReadKey(int layer, int position, int offset, Span<float> into) => Read(_k16, _k32, layer, position, offset, into);

    /// <summary>Reads the value at <paramref name="position"/>, like <see cref="ReadKey"/>.</summary>
    public void ReadValue(int layer, int position, int offset, Span<float> into) => Read(_v16, _v32, layer, position, offset, into);

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
        int at = start * _kvDim + offset;
        if (UsesF16)
        {
            FloatConversions.WidenHalfRows(h![layer].AsSpan(at), _kvDim, count, width, into);
            return;
        }
        for (int t = 0; t < count; t++) f![layer].AsSpan(at + t * _kvDim, width).CopyTo(into.Slice(t * width, width));
    }

    private void Read(Half[][]? h, float[][]? f, int layer, int position, int offset, Span<float> into)
    {
        int at = position * _kvDim + offset;
        if (UsesF16)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(h![layer].AsSpan(at, into.Length), into);
        }
        else f![layer].AsSpan(at, into.Length).CopyTo(into);
    }
}
