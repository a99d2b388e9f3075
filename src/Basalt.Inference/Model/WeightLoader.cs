using Basalt.Gguf;

namespace Basalt.Inference.Model;

/// <summary>Looks tensors up by name and checks their shapes, so a wrong file fails at load with the tensor named.</summary>
internal sealed class WeightLoader(GgufFile file)
{
    public GgufFile File => file;

    public WeightTensor? Optional(string name, int cols, int rows)
    {
        var info = file.FindTensor(name);
        if (info is null) return null;
        var w = new WeightTensor(file, info);
        if (w.Cols != cols || w.Rows != rows)
            throw new ModelFormatException($"{file.Path}: tensor {name} has shape {info.ShapeText}; expected {cols} x {rows}.");
        return w;
    }

    public WeightTensor Require(string name, int cols, int rows) =>
        Optional(name, cols, rows) ?? throw new ModelFormatException($"{file.Path}: missing tensor {name} ({cols} x {rows}).");

    public float[] Vector(string name, int length) => Require(name, length, 1).ToFloatArray();

    public float[]? OptionalVector(string name, int length) => Optional(name, length, 1)?.ToFloatArray();
}
