using NUnit.Framework;
using RevNetIlgpu.Cli;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Export;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Export;

/// <summary>
/// The exported ONNX graph, run by ONNX Runtime, computes what the engine's evaluation forward computes: the same logits
/// within float32 rounding and the same top-1 class, for every kind of unit the models have (stem, transition units with
/// pooled and projected shortcuts on odd sizes, reversible blocks with additive and affine couplings, ResNet units, head).
/// Batch-norm statistics and affine parameters are randomised so that no layer is an identity.
/// </summary>
public class OnnxExportTests
{
    Device device = null!;
    string directory = null!;

    [OneTimeSetUp]
    public void Open()
    {
        ThrowingTraceListener.Install();
        device = Device.Create("cpu");
        directory = Directory.CreateTempSubdirectory("revnet-onnx").FullName;
    }

    [OneTimeTearDown]
    public void Close()
    {
        device.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [TestCase("revnet-tiny", 1, 28, 3, TestName = "RevNetTiny_28x28Grey_OnnxRuntimeMatchesEngine")]
    [TestCase("revnet-fmnist", 1, 28, 10, TestName = "RevNetFmnist_28x28Grey_OnnxRuntimeMatchesEngine")]
    [TestCase("revnet38", 3, 32, 10, TestName = "RevNet38_32x32Colour_OnnxRuntimeMatchesEngine")]
    [TestCase("revnet38", 1, 28, 10, TestName = "RevNet38_28x28Grey_OddSizesPoolWithCeil_OnnxRuntimeMatchesEngine")]
    [TestCase("resnet-tiny", 3, 13, 4, TestName = "ResNetTiny_13x13_OnnxRuntimeMatchesEngine")]
    [TestCase("revnet164", 3, 9, 10, TestName = "RevNet164_Bottleneck_ProjectionShortcuts_OnnxRuntimeMatchesEngine")]
    public void BuiltInModel(string name, int channels, int size, int classes)
    {
        var model = new ResidualNetwork(ModelConfig.Named(name, channels, classes));

        AssertOnnxRuntimeMatchesEngine(model, channels, size, size, classes, batch: 6);
    }

    [Test]
    public void AffineCouplings_OnnxRuntimeMatchesEngine()
    {
        static Sequential Branch() => new(new BatchNorm2d(4), new ReLU(), new Conv2d(4, 4, 3, 1, 1));
        static ReversibleBlock Block() => new(new AffineCoupling(Branch(), Branch()), new AffineCoupling(Branch(), Branch()));
        var model = new Sequential(
            new Conv2d(3, 8, 3, 1, 1), new BatchNorm2d(8), new ReLU(),
            new ReversibleSequence([Block(), Block()]),
            new ReversibleBlock(new AffineCoupling(Branch(), Branch()), new AdditiveCoupling(Branch())),
            new BatchNorm2d(8), new ReLU(), new GlobalAvgPool(), new Linear(8, 5));

        // S and T start at zero (a pure scaling); draw their last convolutions at random, as a trained coupling's are, so the
        // exported scale and shift paths are both exercised.
        foreach (var conv in model.Modules().OfType<AffineCoupling>().SelectMany(c => c.Children).Select(c => c.Child.Modules().OfType<Conv2d>().Last()))
            conv.Weight.Init = Parameter.KaimingNormalFanOut;
        AssertOnnxRuntimeMatchesEngine(model, 3, 11, 7, 5, batch: 4);
    }

    [TestCase(OnnxExporter.MinOpset)]
    [TestCase(OnnxExporter.MaxOpset)]
    public void EverySupportedOpset_RunsInOnnxRuntime(int opset)
    {
        var model = new ResidualNetwork(ModelConfig.Named("revnet-tiny", 1, 3));

        AssertOnnxRuntimeMatchesEngine(model, 1, 12, 12, 3, batch: 3, opset);
    }

    [Test]
    public void BatchDimension_IsDynamic_AndMetadataHoldsClassNamesAndNormalisation()
    {
        var model = new ResidualNetwork(ModelConfig.Named("revnet-tiny", 1, 3));
        using var store = ParameterStore.Allocate(device, model, seed: 1);
        var normalization = new ChannelNormalization([0.25f], [0.5f]);
        string path = Path.Combine(directory, "dynamic.onnx");
        OnnxExporter.Save(OnnxExporter.Build(model, new OnnxInput(1, 8, 8, normalization, ["a b", "c,d", "é"])), path);

        foreach (int batch in new[] { 1, 5 })
        {
            var logits = OnnxRuntimeCheck.Logits(path, new float[batch * 64], batch, 1, 8, 8);
            Assert.That(logits, Has.Length.EqualTo(batch * 3), $"batch {batch} runs from the same file");
        }
        var saved = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var metadata = saved.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.That(metadata["class_names"], Is.EqualTo("[\"a b\",\"c,d\",\"\\u00E9\"]"));
        Assert.That(metadata["normalization_mean"], Is.EqualTo("0.25"));
        Assert.That(metadata["normalization_std"], Is.EqualTo("0.5"));
        Assert.That(saved.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
    }

    [Test]
    public void UnknownModule_IsNamedInTheError()
    {
        var model = new Sequential(new Conv2d(1, 2, 3), new Unknown());
        using var store = ParameterStore.Allocate(device, model, seed: 1);

        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Build(model, new OnnxInput(1, 8, 8, null, ["a", "b"])));
        Assert.That(e!.Message, Does.Contain("Unknown").And.Contain("'1'"));
    }

    sealed class Unknown : Module
    {
        public override Tensor Forward(Tensor x) => x.Retain();
    }

    /// <summary>Exports <paramref name="model"/> (random weights and statistics), runs it in ONNX Runtime and in the engine on the same random images.</summary>
    void AssertOnnxRuntimeMatchesEngine(Module model, int channels, int height, int width, int classes, int batch, int opset = OnnxExporter.DefaultOpset)
    {
        using var store = ParameterStore.Allocate(device, model, seed: 7);
        RandomizeBatchNorms(model, new Random(11));
        var random = new Random(13);
        var images = Enumerable.Range(0, batch * channels * height * width).Select(_ => (float)random.NextDouble()).ToArray();
        var normalization = new ChannelNormalization(
            Enumerable.Range(0, channels).Select(c => 0.3f + 0.1f * c).ToArray(), Enumerable.Range(0, channels).Select(c => 0.2f + 0.05f * c).ToArray());
        var names = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
        string path = Path.Combine(directory, $"model-{Guid.NewGuid():N}.onnx");
        OnnxExporter.Save(OnnxExporter.Build(model, new OnnxInput(channels, height, width, normalization, names), opset), path);

        var engine = EngineLogits(model, images, normalization, batch, channels, height, width);
        var onnx = OnnxRuntimeCheck.Logits(path, images, batch, channels, height, width);
        var agreement = OnnxRuntimeCheck.Compare(onnx, engine, classes);

        double largest = engine.Max(v => Math.Abs(v));
        TestContext.Out.WriteLine($"max |logit| {largest:G3}, max |diff| {agreement.MaxAbsLogitDiff:G3}, top-1 agreement {agreement.Top1Agreement}");
        Assert.That(engine.Distinct().Count(), Is.GreaterThan(batch), "the logits differ between images and classes (the check is not vacuous)");
        Assert.That(agreement.MaxAbsLogitDiff, Is.LessThanOrEqualTo(1e-5 * Math.Max(1, largest)), "float32 rounding only");
        Assert.That(agreement.Top1Agreement, Is.EqualTo(1));
    }

    /// <summary>Evaluation-mode logits of normalised copies of <paramref name="images"/>, nothing recorded.</summary>
    float[] EngineLogits(Module model, float[] images, ChannelNormalization normalization, int batch, int channels, int height, int width)
    {
        var normalised = (float[])images.Clone();
        normalization.Apply(normalised, height * width);
        model.Eval();
        device.Tape.IsRecording = false;
        try
        {
            using var x = Tensor.FromArray(device, normalised, batch, channels, height, width);
            using var y = model.Forward(x);
            return y.ToArray();
        }
        finally
        {
            device.Tape.IsRecording = true;
        }
    }

    /// <summary>Running statistics and affine parameters away from the initial identity (mean 0, variance 1, gamma 1, beta 0).</summary>
    static void RandomizeBatchNorms(Module model, Random random)
    {
        float Uniform(double low, double high) => (float)(low + (high - low) * random.NextDouble());
        foreach (var norm in model.Modules().OfType<BatchNorm2d>())
        {
            foreach (var (path, parameter) in norm.NamedParameters().Where(p => p.Parameter.Persistent))
            {
                var values = new float[parameter.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = path switch
                    {
                        "weight" => Uniform(0.5, 1.5),
                        "running_var" => Uniform(0.5, 2),
                        _ => Uniform(-0.3, 0.3),
                    };
                }
                parameter.Value.CopyFrom(values);
            }
        }
    }
}
