using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class ChannelNormalizationTests
{
    [Test]
    public void Compute_GivesPerChannelMeanAndPopulationStd()
    {
        // Channel 0 holds 1,2,3,4 over two images; channel 1 is constant 5.
        float[] images = [1, 2, 5, 5, 3, 4, 5, 5];
        var dataset = new ImageDataset("two", images, [0, 1], 2, 1, 2, 2);

        var normalization = ChannelNormalization.Compute(dataset);

        Assert.That(normalization.Mean, Is.EqualTo(new[] { 2.5f, 5f }));
        Assert.That(normalization.Std[0], Is.EqualTo(MathF.Sqrt(1.25f)).Within(1e-6f));
        Assert.That(normalization.Std[1], Is.EqualTo(1f), "a constant channel keeps its scale rather than dividing by zero");
    }

    [Test]
    public void Apply_GivesZeroMeanUnitStdPerChannel()
    {
        var dataset = SyntheticDatasets.Indexed(7, 3, 4, 5, 2);
        var normalized = ChannelNormalization.Compute(dataset).Apply(dataset);
        var again = ChannelNormalization.Compute(normalized);
        Assert.That(again.Mean, Is.All.EqualTo(0f).Within(1e-5f));
        Assert.That(again.Std, Is.All.EqualTo(1f).Within(1e-5f));
        Assert.That(dataset.Images[0], Is.EqualTo(0f), "the source dataset is left alone");
    }

    [Test]
    public void Metadata_RoundTripsEveryValueExactly()
    {
        var normalization = new ChannelNormalization([0.28604063f, 1f / 3, -2.5e-8f], [0.35302424f, 7f, 1e-30f]);
        var metadata = new Dictionary<string, string> { ["model"] = "kept" };

        normalization.WriteTo(metadata);
        var read = ChannelNormalization.ReadFrom(metadata, "run.safetensors");

        Assert.That(read.Mean, Is.EqualTo(normalization.Mean));
        Assert.That(read.Std, Is.EqualTo(normalization.Std));
        Assert.That(metadata["model"], Is.EqualTo("kept"));
    }

    [Test]
    public void Metadata_WithoutNormalisation_IsRefusedNamingTheFile()
    {
        var error = Assert.Throws<InvalidDataException>(() => ChannelNormalization.ReadFrom(new Dictionary<string, string> { [ChannelNormalization.MeanKey] = "0.5" }, "old.safetensors"))!;
        Assert.That(error.Message, Does.StartWith("old.safetensors: checkpoint has no valid normalisation in its metadata"));
    }
}
