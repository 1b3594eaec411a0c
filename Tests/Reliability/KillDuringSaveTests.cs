using System.Diagnostics;
using NUnit.Framework;
using RevNetIlgpu.Engine;

namespace RevNetIlgpu.Tests.Reliability;

public class KillDuringSaveTests
{
    /// <summary>
    /// When each kill lands: after the process has completed this many checkpoint writes, this long (microseconds) after
    /// the next write's temporary file appears: during the first write, and during later ones at several depths.
    /// </summary>
    static readonly (int CompletedWrites, int DelayMicroseconds)[] Kills = [(0, 0), (0, 2000), (1, 0), (1, 200), (2, 1000), (3, 5000)];

    [Test]
    public void KillingTheCliWhileItCheckpoints_LeavesLastCheckpointAbsentOrComplete_AndResumable()
    {
        using var data = new TinyIdxDataset();
        using var device = Device.Create("cpu");
        string output = data.OutputDirectory("killed"), last = Path.Combine(output, "last.safetensors");
        int killedMidWrite = 0;
        long lastStep = 0;

        foreach (var (completedWrites, delay) in Kills)
        {
            var args = TinyRun.TrainArguments(data, "killed");
            args.AddRange(["--epochs", "1000", "--checkpoint-every", "1"]);
            if (File.Exists(last)) args.AddRange(["--resume", last]);
            using var process = RevnetCli.Start(args);
            string temporary = $"{last}.tmp-{process.Id}";
            try
            {
                var waited = Stopwatch.StartNew();
                var previousWrite = File.Exists(last) ? File.GetLastWriteTimeUtc(last) : default;
                for (int written = 0; written < completedWrites; written++)
                {
                    WaitFor(process, waited, () => File.Exists(last) && File.GetLastWriteTimeUtc(last) != previousWrite);
                    previousWrite = File.GetLastWriteTimeUtc(last);
                }
                WaitFor(process, waited, () => File.Exists(temporary));
                var sinceWriteBegan = Stopwatch.StartNew();
                while (sinceWriteBegan.Elapsed.TotalMicroseconds < delay) Thread.SpinWait(10);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            if (File.Exists(temporary)) killedMidWrite++;

            Assert.That(File.Exists(last) || lastStep == 0, "once written, last.safetensors never disappears");
            if (!File.Exists(last)) continue;
            var state = CheckpointFiles.LoadIntoFreshModel(device, last, out var values);
            Assert.That(state.Step, Is.GreaterThanOrEqualTo(lastStep), "a kill never brings back an older checkpoint");
            Assert.That(values.All(float.IsFinite));
            lastStep = state.Step;
        }

        TestContext.Out.WriteLine($"{Kills.Length} kills, {killedMidWrite} with the temporary file still present; last checkpoint at step {lastStep}");
        Assert.That(lastStep, Is.Positive, "runs resumed from one another and made progress");
    }

    static void WaitFor(Process process, Stopwatch waited, Func<bool> condition)
    {
        while (!condition())
        {
            Assert.That(process.HasExited, Is.False, "the trainer ran until killed");
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromMinutes(2)), "the trainer got to the checkpoint write");
            Thread.Yield();
        }
    }
}
