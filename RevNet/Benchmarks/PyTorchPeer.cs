using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// A long-lived PyTorch process timing training steps of the same network as ours (scripts/torch_revnet.py, embedded
/// in this assembly): one JSON request per line on its stdin, one reply per line on its stdout, so import time is
/// paid once and steps can alternate with ours. PyTorch times its own steps, so the pipe is not in the figures.
/// </summary>
public sealed class PyTorchPeer : IDisposable
{
    /// <summary>Debian's python3-torch installs here; a pyenv or venv python on PATH usually lacks torch.</summary>
    public const string DefaultPython = "/usr/bin/python3";

    const string ScriptResource = "torch_revnet.py";

    readonly Process process;
    readonly string scriptDirectory;

    PyTorchPeer(Process process, string scriptDirectory)
    {
        this.process = process;
        this.scriptDirectory = scriptDirectory;
    }

    /// <summary>The torch version the peer reported when its model was built.</summary>
    public string TorchVersion { get; private set; } = "";

    /// <summary>Threads PyTorch computes with (torch.get_num_threads after setting it).</summary>
    public int Threads { get; private set; }

    /// <summary>Parameters of the peer's model (equal to ours, checked by <see cref="Build"/>).</summary>
    public long Params { get; private set; }

    /// <summary>
    /// Starts the peer if <paramref name="python"/> imports torch; otherwise returns null and says why in
    /// <paramref name="whyNot"/> (the comparison is then skipped, not failed).
    /// </summary>
    public static PyTorchPeer? TryStart(string python, out string whyNot)
    {
        if (!ImportsTorch(python, out whyNot)) return null;
        string directory = Directory.CreateTempSubdirectory("revnet-torch-").FullName;
        string script = Path.Combine(directory, ScriptResource);
        using (var resource = typeof(PyTorchPeer).Assembly.GetManifestResourceStream(ScriptResource)
                              ?? throw new InvalidOperationException($"{ScriptResource} is not embedded in {typeof(PyTorchPeer).Assembly.GetName().Name}"))
        using (var file = File.Create(script))
            resource.CopyTo(file);
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("serve");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        whyNot = "";
        return new PyTorchPeer(process, directory);
    }

    /// <summary>
    /// Builds the peer's copy of <paramref name="config"/> with a fixed random batch on <paramref name="device"/> ("cpu"
    /// or "cuda") and sets its thread count. Throws when its parameter count differs from <paramref name="expectedParams"/>
    /// (the architectures differ) or the device is missing.
    /// </summary>
    public void Build(ModelConfig config, int batch, int image, int threads, long expectedParams, string device = "cpu")
    {
        var reply = Request(new JsonObject
        {
            ["op"] = "build",
            ["config"] = new JsonObject
            {
                ["reversible"] = config.Reversible,
                ["units"] = new JsonArray(config.UnitsPerStage.Select(u => (JsonNode)u).ToArray()),
                ["stem"] = config.StemChannels,
                ["widths"] = new JsonArray(config.StageChannels.Select(c => (JsonNode)c).ToArray()),
                ["bottleneck"] = config.Bottleneck ? new JsonArray(config.BottleneckChannels!.Select(c => (JsonNode)c).ToArray()) : null,
                ["input_channels"] = config.InputChannels,
                ["classes"] = config.Classes,
                ["stem_stride"] = config.StemStride,
                ["first_stage_stride"] = config.FirstStageStride,
            },
            ["batch"] = batch,
            ["image"] = image,
            ["threads"] = threads,
            ["device"] = device,
        });
        Params = reply["params"]!.GetValue<long>();
        Threads = reply["threads"]!.GetValue<int>();
        TorchVersion = reply["torch"]!.GetValue<string>();
        if (Params != expectedParams)
            throw new InvalidOperationException($"PyTorch's {config.Name} has {Params:N0} parameters, ours {expectedParams:N0}: the two architectures differ, so their times do not compare");
    }

    /// <summary>Wall time in milliseconds of one training step (forward, backward, SGD) in <paramref name="mode"/>: "stored" or "reconstruct".</summary>
    public double StepMs(string mode) => Request(new JsonObject { ["op"] = "step", ["mode"] = mode })["ms"]!.GetValue<double>();

    JsonNode Request(JsonObject request)
    {
        process.StandardInput.WriteLine(request.ToJsonString());
        process.StandardInput.Flush();
        string? line = process.StandardOutput.ReadLine();
        if (line is null)
            throw new InvalidOperationException($"the PyTorch peer exited (code {(process.WaitForExit(5000) ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "unknown")}) during '{request["op"]}'");
        var reply = JsonNode.Parse(line) ?? throw new InvalidDataException($"the PyTorch peer replied '{line}'");
        if (reply["error"] is { } error) throw new InvalidOperationException($"the PyTorch peer failed '{request["op"]}': {error.GetValue<string>()}");
        return reply;
    }

    static bool ImportsTorch(string python, out string whyNot)
    {
        var check = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        check.ArgumentList.Add("-c");
        check.ArgumentList.Add("import torch");
        try
        {
            using var process = Process.Start(check)!;
            process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            whyNot = process.ExitCode == 0 ? "" : $"{python} cannot import torch (Debian: apt-get install python3-torch): {error.Trim().Split('\n').LastOrDefault()}";
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            whyNot = $"{python} not found ({e.Message})";
            return false;
        }
    }

    /// <summary>Asks the Python process to quit and waits up to 10 s for it, then kills it.</summary>
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.WriteLine(JsonSerializer.Serialize(new { op = "quit" }));
                process.StandardInput.Close();
                if (!process.WaitForExit(10_000)) process.Kill();
            }
        }
        catch (IOException)
        {
            // The peer already closed its pipe: nothing left to stop.
        }
        process.Dispose();
        Directory.Delete(scriptDirectory, recursive: true);
    }
}
