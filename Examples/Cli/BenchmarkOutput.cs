using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace RevNetIlgpu.Cli;

/// <summary>
/// The options every `revnet bench` subcommand shares (--device, --simd, --conv-algorithm, --json, --out) and what they do with a result:
/// a table or JSON on stdout, and with --out a markdown file (headed by the command line and device, so a reader can
/// rerun it) and a JSON file.
/// </summary>
public sealed class BenchmarkOutput
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public DeviceOptions Device { get; } = new();

    public Option<bool> Json { get; } = new("--json") { Description = "print JSON instead of a table" };

    public Option<string?> Out { get; } = new("--out") { Description = "also write NAME.md and NAME.json (and charts) into this directory" };

    /// <summary>The command as typed (program name shortened to `revnet`).</summary>
    public static string CommandLine => "revnet " + string.Join(" ", Environment.GetCommandLineArgs().Skip(1).Select(Quote));

    public void AddTo(Command command)
    {
        Device.AddTo(command);
        command.Add(Json);
        command.Add(Out);
    }

    /// <summary>
    /// Prints <paramref name="table"/> (or <paramref name="json"/> with --json); with --out writes <paramref name="name"/>.md
    /// (heading, command line, device, table, <paramref name="notes"/>) and <paramref name="name"/>.json. Returns the --out directory, or null.
    /// </summary>
    public string? Emit(ParseResult parse, string name, string heading, string deviceName, BenchmarkTable table, string notes, string json)
    {
        if (parse.GetValue(Json)) Console.WriteLine(json);
        else
        {
            AnsiConsole.Write(table.ToSpectre());
            if (notes.Length > 0) Console.WriteLine(notes);
        }
        if (parse.GetValue(Out) is not { } directory) return null;
        Directory.CreateDirectory(directory);
        string markdown = $"# {heading}\n\n```\n{CommandLine}\n```\n\nDevice: {deviceName}\n\n{table.ToMarkdown()}\n{notes}\n";
        File.WriteAllText(Path.Combine(directory, name + ".md"), markdown);
        File.WriteAllText(Path.Combine(directory, name + ".json"), json + "\n");
        Console.Error.WriteLine($"wrote {Path.Combine(directory, name)}.md and .json");
        return directory;
    }

    static string Quote(string arg) => arg.Length == 0 || arg.Any(char.IsWhiteSpace) ? $"\"{arg}\"" : arg;
}
