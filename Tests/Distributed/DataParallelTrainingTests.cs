using System.Diagnostics;
using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Distributed;

/// <summary>
/// `revnet train` as a 2-rank MPI job (scripts/train-mpi.sh) on revnet-tiny and a tiny IDX dataset: what it computes,
/// how it checkpoints and resumes, and how it stops when a rank dies or hangs.
/// </summary>
[NonParallelizable]
public class DataParallelTrainingTests
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4);

    [SetUp]
    public void RequireMpi() => MpiJob.RequireMpirun();

    [Test]
    public void SyncBn_TwoRanksForFiveSteps_EqualOneProcessOnTheGlobalBatch()
    {
        using var data = new TinyIdxDataset(trainCount: 64);
        // One process, one rank: --sync-bn exchanges with no one but takes the batch-norm sums in float64 as the ranks do.
        // (The plain kernels sum in float32, which alone moves batch-norm gradients by ~1e-4 relative: see README.)
        // Direct convolutions on both sides: with Winograd's larger rounding (~1e-6 against ~1e-7) the two runs agreed to
        // 3e-6 for steps 1-4 and then jumped to 8e-3 at step 5 on this data, the discrete change a ReLU mask flipping near
        // zero makes; the same runs on ilgpu-cpu and in one process agree, so that says nothing of sync-BN.
        string[] options = ["--max-steps", "5", "--conv-algorithm", "direct"];
        var one = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "one", options), "--sync-bn"]);
        Assert.That(one.ExitCode, Is.Zero, one.StandardError);

        var two = MpiJob.Run(2, [.. TinyRun.TrainArguments(data, "two", options), "--sync-bn"], JobTimeout);

        Assert.That(two.ExitCode, Is.Zero, two.StandardError);
        Assert.That(two.StandardOutput.TrimEnd().Split('\n')[^1], Does.StartWith("RESULT model=revnet-tiny").And.EndWith("ranks=2"));
        Assert.That(one.StandardOutput, Does.Contain("ranks=1"));
        var expected = Tensors(Path.Combine(data.OutputDirectory("one"), "last.safetensors"));
        var actual = Tensors(Path.Combine(data.OutputDirectory("two"), "last.safetensors"));
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        // Every parameter, running statistic and momentum value: the ranks added their sums in another order than one
        // process does, so float32 rounding differs; anything beyond it (per-rank statistics, a wrong count) is far larger.
        var worst = expected.Keys.Select(name => (Name: name, Error: RelativeL2(actual[name], expected[name]))).MaxBy(e => e.Error);
        TestContext.Out.WriteLine($"worst relative L2 over {expected.Count} tensors: {worst.Error:E2} ({worst.Name})");
        Assert.That(worst.Error, Is.LessThanOrEqualTo(1e-5), $"{worst.Name} differs between 2 ranks with --sync-bn and 1 process");
    }

    [Test]
    public void TwoRanks_CheckpointAndResume_Exactly_AndTheCheckpointResumesOnOneRank()
    {
        using var data = new TinyIdxDataset(trainCount: 48);
        // 6 global batches an epoch, 2 epochs; a checkpoint after every step.
        List<string> Arguments(string name) => [.. TinyRun.TrainArguments(data, name, "--epochs", "2", "--checkpoint-every", "1", "--crop-padding", "2")];
        const long TotalSteps = 12;

        var whole = MpiJob.Run(2, Arguments("whole"), JobTimeout);
        Assert.That(whole.ExitCode, Is.Zero, whole.StandardError);

        string splitLast = Path.Combine(data.OutputDirectory("split"), "last.safetensors");
        using (var interrupted = MpiJob.Start(2, Arguments("split"), out _, out var error))
        {
            try
            {
                MpiJob.WaitForCheckpoint(interrupted, error, splitLast, step: 3, JobTimeout);
            }
            finally
            {
                interrupted.Kill(entireProcessTree: true);
                interrupted.WaitForExit();
            }
        }
        long stoppedAt = MpiJob.StepOf(splitLast);
        Assert.That(stoppedAt, Is.InRange(3, TotalSteps - 1), "the job was stopped mid-run");
        string midRun = Path.Combine(data.Directory, "mid-run.safetensors");
        File.Copy(splitLast, midRun);

        var resumed = MpiJob.Run(2, [.. Arguments("split"), "--resume", splitLast], JobTimeout);
        Assert.That(resumed.ExitCode, Is.Zero, resumed.StandardError);
        var expected = CheckpointFiles.TensorBytes(Path.Combine(data.OutputDirectory("whole"), "last.safetensors"));
        var actual = CheckpointFiles.TensorBytes(splitLast);
        Assert.That(MpiJob.StepOf(splitLast), Is.EqualTo(TotalSteps));
        var differing = expected.Keys.Where(name => !expected[name].AsSpan().SequenceEqual(actual[name])).ToList();
        Assert.That(differing, Is.Empty, $"tensors whose bytes differ between the uninterrupted job and the one resumed at step {stoppedAt}");

        // The checkpoint holds the global data position, so another rank count continues from it.
        var oneRank = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "one-rank", "--epochs", "2"), "--resume", midRun]);
        Assert.That(oneRank.ExitCode, Is.Zero, oneRank.StandardError);
        Assert.That(oneRank.StandardOutput, Does.Contain("ranks=1"));
        Assert.That(MpiJob.StepOf(Path.Combine(data.OutputDirectory("one-rank"), "last.safetensors")), Is.EqualTo(TotalSteps));
    }

    [Test]
    public void AKilledRank_StopsTheJobWithOneErrorLine_AndLeavesTheLastCheckpointIntact()
    {
        using var data = new TinyIdxDataset();
        var (result, last) = RunAndDisturbRank1(data, "KILL", rankTimeoutSeconds: 300);
        Assert.That(result.ErrorLines, Has.Count.EqualTo(1), $"one error line; stderr: {result.StandardError}");
        Assert.That(result.ErrorLines[0], Does.StartWith("revnet: error: rank 0 of 2: stopped by mpirun: another rank of the job died"));
        AssertIntact(last);
    }

    [Test]
    public void AHungRank_StopsTheJobAfterTheRankTimeout_WithOneErrorLinePerRank_AndLeavesTheLastCheckpointIntact()
    {
        using var data = new TinyIdxDataset();
        var clock = Stopwatch.StartNew();
        var (result, last) = RunAndDisturbRank1(data, "STOP", rankTimeoutSeconds: 45);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(45 + 120)), "stopped within the timeout and mpirun's teardown");
        // The waiting rank says what happened; the hung one, woken by mpirun only to be stopped, may add its own line.
        Assert.That(result.ErrorLines[0], Does.StartWith("revnet: error: rank 0 of 2: all-reduce").And.Contain("waited more than 45 s for the other ranks"),
            result.StandardError);
        Assert.That(result.ErrorLines.Skip(1), Has.All.StartWith("revnet: error: rank 1 of 2: "), $"nothing but one line per rank; stderr: {result.StandardError}");
        Assert.That(result.ErrorLines, Has.Count.LessThanOrEqualTo(2), $"stderr: {result.StandardError}");
        AssertIntact(last);
    }

    [Test]
    public void RanksStartedWithDifferentOptions_StopAtStartUp_NamingTheMismatch()
    {
        using var data = new TinyIdxDataset();
        var info = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Open MPI's MPMD form: one rank with --lr 0.05, the other with --lr 0.1.
        foreach (var lr in new[] { "0.05", "0.1" })
        {
            if (lr != "0.05") info.ArgumentList.Add(":");
            foreach (var a in new[] { "-np", "1", "--quiet", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "dotnet", RevnetCli.AssemblyPath })
                info.ArgumentList.Add(a);
            foreach (var a in TinyRun.TrainArguments(data, "mismatch", "--lr", lr)) info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(JobTimeout), "the job stopped");
        Assert.That(process.ExitCode, Is.Not.Zero);
        Assert.That(error.Result, Does.Contain("ranks were started with different training options or data"));
        Assert.That(File.Exists(Path.Combine(data.OutputDirectory("mismatch"), "last.safetensors")), Is.False, "nothing was trained");
    }

    /// <summary>Runs a 2-rank job until its first checkpoints exist, sends rank 1 <paramref name="signal"/>, and waits for the job's end.</summary>
    static (CliResult Result, string LastCheckpoint) RunAndDisturbRank1(TinyIdxDataset data, string signal, int rankTimeoutSeconds)
    {
        const string name = "disturbed";
        string last = Path.Combine(data.OutputDirectory(name), "last.safetensors");
        var args = TinyRun.TrainArguments(data, name, "--epochs", "1000", "--checkpoint-every", "1", "--rank-timeout", rankTimeoutSeconds.ToString());
        using var job = MpiJob.Start(2, args, out var output, out var error);
        try
        {
            MpiJob.WaitForCheckpoint(job, error, last, step: 2, JobTimeout);
            using var kill = Process.Start("kill", [$"-{signal}", MpiJob.RankProcessId(job, 1).ToString()])!;
            kill.WaitForExit();
            var result = MpiJob.WaitForExit(job, output, error, TimeSpan.FromSeconds(rankTimeoutSeconds + 120));
            Assert.That(result.ExitCode, Is.Not.Zero, "the job failed");
            return (result, last);
        }
        finally
        {
            if (!job.HasExited) job.Kill(entireProcessTree: true);
        }
    }

    static void AssertIntact(string last)
    {
        using var device = Device.Create("cpu");
        var state = CheckpointFiles.LoadIntoFreshModel(device, last, out var values);
        Assert.That(state.Step, Is.GreaterThanOrEqualTo(2), "the checkpoint written before the failure");
        Assert.That(values.All(float.IsFinite), "every value finite");
    }

    static Dictionary<string, float[]> Tensors(string path) =>
        SafeTensorsFile.Read(path).Tensors.Where(t => t.Data is float[]).ToDictionary(t => t.Name, t => (float[])t.Data);

    static double RelativeL2(float[] actual, float[] expected)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference += Math.Pow(actual[i] - expected[i], 2);
            norm += Math.Pow(expected[i], 2);
        }
        return Math.Sqrt(difference) / Math.Max(Math.Sqrt(norm), 1e-30);
    }
}
