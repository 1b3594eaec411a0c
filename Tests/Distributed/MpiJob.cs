using System.Diagnostics;
using NUnit.Framework;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Distributed;

/// <summary>
/// Runs <c>revnet train</c> as an MPI job the way users do, through scripts/train-mpi.sh, on the revnet.dll the tests
/// were built with (REVNET_DLL), and finds its ranks' processes to kill or stop them.
/// </summary>
internal static class MpiJob
{
    /// <summary>The checkout's root: the folder above the test assembly that holds RevNetIlgpu.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "RevNetIlgpu.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("RevNetIlgpu.sln not found above the test assembly");
        }
    }

    /// <summary>Skips the calling test, saying why, when Open MPI is absent (.ci/run installs Debian's openmpi-bin).</summary>
    public static void RequireMpirun()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "mpirun")));
        if (!found || !File.Exists("/usr/lib/x86_64-linux-gnu/libmpi.so.40"))
            Assert.Ignore("mpirun/libmpi.so.40 not found and could not be installed here: `apt-get install openmpi-bin` (.ci/run and scripts/train-mpi.sh install it)");
    }

    /// <summary>Starts <c>bash scripts/train-mpi.sh ranks …</c> (the process becomes mpirun) with <paramref name="trainArguments"/> after "train".</summary>
    public static Process Start(int ranks, IEnumerable<string> trainArguments, out StringWriter output, out StringWriter error)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepositoryRoot };
        info.ArgumentList.Add("scripts/train-mpi.sh");
        info.ArgumentList.Add(ranks.ToString());
        foreach (var a in trainArguments.SkipWhile(a => a == "train")) info.ArgumentList.Add(a);
        info.Environment["REVNET_DLL"] = RevnetCli.AssemblyPath;
        var process = Process.Start(info)!;
        var (o, e) = (new StringWriter(), new StringWriter());
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) lock (o) o.WriteLine(line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) lock (e) e.WriteLine(line.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        (output, error) = (o, e);
        return process;
    }

    /// <summary>Runs the job to completion; a job that outlives <paramref name="timeout"/> is killed and fails the test.</summary>
    public static CliResult Run(int ranks, IEnumerable<string> trainArguments, TimeSpan timeout)
    {
        using var process = Start(ranks, trainArguments, out var output, out var error);
        return WaitForExit(process, output, error, timeout);
    }

    /// <summary>Waits for the job's end and returns what it printed.</summary>
    public static CliResult WaitForExit(Process process, StringWriter output, StringWriter error, TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the MPI job ran longer than {timeout}; stderr so far: {error}");
        }
        process.WaitForExit();
        return new CliResult(process.ExitCode, output.ToString(), error.ToString());
    }

    /// <summary>The process of rank <paramref name="rank"/> among mpirun's children (Open MPI sets OMPI_COMM_WORLD_RANK in each).</summary>
    public static int RankProcessId(Process mpirun, int rank)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (parent != mpirun.Id) continue;
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environment.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }
        throw new InvalidOperationException($"no process of rank {rank} under mpirun {mpirun.Id}");
    }

    /// <summary>Waits until <paramref name="checkpoint"/> holds a step of at least <paramref name="step"/> (the writer replaces it atomically).</summary>
    public static void WaitForCheckpoint(Process mpirun, StringWriter error, string checkpoint, long step, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (!(File.Exists(checkpoint) && StepOf(checkpoint) >= step))
        {
            Assert.That(mpirun.HasExited, Is.False, $"the job ran until the checkpoint at step {step}; stderr: {error}");
            Assert.That(waited.Elapsed, Is.LessThan(timeout), $"a checkpoint at step {step} appeared within {timeout}; stderr: {error}");
            Thread.Sleep(20);
        }
    }

    public static long StepOf(string checkpoint) => long.Parse(RevNet.Checkpoints.Checkpoint.Read(checkpoint).Metadata["step"]);
}
