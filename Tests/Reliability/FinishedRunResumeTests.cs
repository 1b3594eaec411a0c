using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>Resuming a run that has already taken all its steps reports that run, never an empty RESULT.</summary>
public class FinishedRunResumeTests
{
    TinyIdxDataset data = null!;

    [OneTimeSetUp]
    public void WriteData() => data = new TinyIdxDataset();

    [OneTimeTearDown]
    public void DeleteData() => data.Dispose();

    static double TestAccuracy(string output) =>
        double.Parse(Regex.Match(output, @"^RESULT .* test_acc=([0-9.]+) ", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);

    [Test]
    public void ResumingAFinishedRun_SaysSo_AndPrintsTheCheckpointsRealAccuracy()
    {
        var first = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "finished", "--max-steps", "6")]);
        Assert.That(first.ExitCode, Is.Zero, first.StandardError);
        string last = Path.Combine(data.OutputDirectory("finished"), "last.safetensors");

        // A child process: the log lines go through Spectre.Console, which writes to the real console, not a captured one.
        var again = RevnetCli.RunChild(TinyRun.TrainArguments(data, "finished", "--max-steps", "6", "--resume", last), TimeSpan.FromMinutes(3));

        Assert.That(again.ExitCode, Is.Zero, again.StandardError);
        Assert.That(again.StandardOutput + again.StandardError, Does.Contain("the run had already finished (step 6 of 6): evaluating its checkpoint"));
        Assert.That(TestAccuracy(again.StandardOutput), Is.EqualTo(TestAccuracy(first.StandardOutput)), "the checkpoint's own accuracy, not 0");
        Assert.That(TestAccuracy(again.StandardOutput), Is.GreaterThan(0));
    }
}
