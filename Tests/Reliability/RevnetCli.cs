using System.Diagnostics;
using RevNetIlgpu.Cli;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>What a run of the command line produced.</summary>
internal sealed record CliResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Lines on stderr other than the "device: …" announcement every device-using command makes.</summary>
    public IReadOnlyList<string> ErrorLines =>
        StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("device: ")).ToList();
}

/// <summary>Runs the real <c>revnet</c> program: in this process through its entry point, or as a child process.</summary>
internal static class RevnetCli
{
    /// <summary>revnet.dll, copied next to the test assembly by the project reference.</summary>
    public static string AssemblyPath => typeof(CommandErrors).Assembly.Location;

    /// <summary>Runs <c>revnet args</c> in this process with stdout and stderr captured (tests run one at a time).</summary>
    public static CliResult RunInProcess(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (previousOutput, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exitCode = (int)typeof(CommandErrors).Assembly.EntryPoint!.Invoke(null, [args])!;
            return new CliResult(exitCode, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOutput);
            Console.SetError(previousError);
        }
    }

    /// <summary>Starts <c>dotnet revnet.dll args</c> with its output redirected (and drained, so it never blocks).</summary>
    public static Process Start(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(AssemblyPath);
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs <c>dotnet revnet.dll args</c> to completion, with <paramref name="environment"/> added to its environment.</summary>
    public static CliResult RunChild(IEnumerable<string> args, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(AssemblyPath);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"revnet {string.Join(' ', args)} ran longer than {timeout}");
        }
        return new CliResult(process.ExitCode, output.Result, error.Result);
    }
}
