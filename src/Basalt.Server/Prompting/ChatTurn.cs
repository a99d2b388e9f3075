namespace Basalt.Server.Prompting;

/// <summary>One message of a conversation, after the wire format (OpenAI or Ollama) has been read.</summary>
internal sealed record ChatTurn(string Role, string Content);
