namespace Basalt.Inference.Model;

/// <summary>A model file whose architecture, hyperparameters or tensors Basalt cannot run; the message says what was expected.</summary>
public sealed class ModelFormatException(string message) : Exception(message);
