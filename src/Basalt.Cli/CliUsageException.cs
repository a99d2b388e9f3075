namespace Basalt.Cli;

/// <summary>An argument combination the command cannot act on; the message says what was expected.</summary>
public sealed class CliUsageException(string message) : Exception(message);
