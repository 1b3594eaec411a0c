using NUnit.Framework;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>
/// `revnet gradcheck`'s last line carries max_rebuild_error in every mode; with --exact-reconstruction (issue 17's floor,
/// on RevNet-38) every difference is 0 and the exit code says so.
/// </summary>
public class GradcheckCommandTests
{
    static string LastLine(CliResult r) => r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

    [Test]
    public void Exact_OnRevNet38_LastLineIsAllZerosAndEqual_ExitZero()
    {
        var r = RevnetCli.RunInProcess("gradcheck", "--model", "revnet38", "--batch", "2", "--device", "cpu", "--exact-reconstruction");
        TestContext.Out.WriteLine(r.StandardOutput);
        Assert.That(r.ExitCode, Is.Zero, r.StandardError);
        Assert.That(LastLine(r), Is.EqualTo("worst_rel_l2=0 max_rebuild_error=0 loss_equal=true running_stats_equal=true"));
        Assert.That(r.StandardOutput, Does.Contain("stage3.rev.1 rebuild max rel error=0"), "one line per reversible block");
    }

    [Test]
    public void Float32_LastLineReportsTheRebuildError()
    {
        var r = RevnetCli.RunInProcess("gradcheck", "--model", "revnet-tiny", "--batch", "2", "--image", "8", "--device", "cpu");
        TestContext.Out.WriteLine(r.StandardOutput);
        Assert.That(r.ExitCode, Is.Zero, r.StandardError);
        Assert.That(LastLine(r), Does.Match(@"^worst_rel_l2=\d\.\d{3}E-\d{3} max_rebuild_error=\d\.\d{3}E-\d{3} loss_equal=true running_stats_equal=true$"),
            "float32 reconstruction rebuilds within rounding, not exactly");
    }
}
