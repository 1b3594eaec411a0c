using System.CommandLine;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.Cli.Commands;

/// <summary><c>revnet models</c>: one line per model, "&lt;name&gt; &lt;parameter count&gt;" (32x32 colour input, 10 classes).</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var verbose = new Option<bool>("--verbose") { Description = "also say which units are reversible and which keep activations" };
        var command = new Command("models", "list the models and their parameter counts") { verbose };
        command.SetAction(parse =>
        {
            foreach (var config in ModelConfig.All)
            {
                var model = new ResidualNetwork(config);
                Console.WriteLine($"{config.Name} {model.ParameterCount()}");
                if (parse.GetValue(verbose))
                    foreach (var line in model.Describe()) Console.WriteLine($"  {line}");
            }
            return 0;
        });
        return command;
    }
}
