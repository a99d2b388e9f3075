using Basalt.Cli;

return BasaltCli.Run(args, Console.Out, Console.Error);
