namespace Basalt.Inference.Chat;

/// <summary>A chat template that cannot be parsed or rendered, or that raised an error itself; the message says where.</summary>
public sealed class TemplateException(string message) : Exception(message);
