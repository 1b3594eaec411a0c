using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Golden;

/// <summary>The outcome of one golden case: the worst relative error over its checked tensors and whether every one was within tolerance.</summary>
public sealed record GoldenResult(string Name, string Op, double WorstRelativeError, bool Passed, string Detail);

/// <summary>
/// Runs golden cases through the engine's public ops (the code paths training uses) and compares every output
/// with max|actual − expected| / max|expected| against the tolerance the case's manifest states. An op it
/// does not know, or a case it cannot load, is a failure.
/// </summary>
public sealed class GoldenRunner(Device device)
{
    delegate void Check(string tensor, float[] actual, double tolerance);

    /// <summary>Runs every case in <paramref name="directory"/> (<see cref="GoldenCase.FindManifests"/>), in name order.</summary>
    public IReadOnlyList<GoldenResult> RunDirectory(string directory) =>
        GoldenCase.FindManifests(directory).Select(RunManifest).ToList();

    /// <summary>Loads and runs one case; a case that cannot be loaded is a failed result naming why.</summary>
    public GoldenResult RunManifest(string manifestPath)
    {
        string name = Path.GetFileNameWithoutExtension(manifestPath);
        GoldenCase c;
        try
        {
            c = GoldenCase.Load(manifestPath);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return new GoldenResult(name, "?", double.PositiveInfinity, false, e.Message);
        }
        return Run(c);
    }

    /// <summary>Runs <paramref name="c"/>'s op on the device and compares each output with the case's tolerance.</summary>
    public GoldenResult Run(GoldenCase c)
    {
        double worst = 0;
        var failures = new List<string>();
        void Compare(string tensor, float[] actual, double tolerance)
        {
            double err = RelativeError(actual, c.F(tensor));
            worst = Math.Max(worst, err);
            if (!(err <= tolerance)) failures.Add($"{tensor} rel {err:E2} > {tolerance:E0}");
        }
        try
        {
            switch (c.Op)
            {
                case "conv2d": Conv2d(c, Compare); break;
                case "batchnorm2d_train": BatchNormTrain(c, Compare); break;
                case "batchnorm2d_eval": BatchNormEval(c, Compare); break;
                case "relu": Unary(c, Functional.Relu, Compare, 0); break;
                case "global_avg_pool": Unary(c, Functional.GlobalAvgPool, Compare, 1e-6); break;
                case "avg_pool2d": Unary(c, x => Functional.AvgPool2x2(x), Compare, 1e-6); break;
                case "linear": Linear(c, Compare); break;
                case "softmax_cross_entropy": CrossEntropy(c, Compare); break;
                case "sgd_momentum": Sgd(c, Compare); break;
                case "reversible_block": ReversibleBlock(c, Compare); break;
                default: return new GoldenResult(c.Name, c.Op, double.PositiveInfinity, false, $"unknown op '{c.Op}'");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new GoldenResult(c.Name, c.Op, double.PositiveInfinity, false, $"{e.GetType().Name}: {e.Message}");
        }
        return new GoldenResult(c.Name, c.Op, worst, failures.Count == 0, string.Join("; ", failures));
    }

    /// <summary>max|a − e| / max|e| (NaN anywhere counts as infinite error).</summary>
    public static double RelativeError(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) return double.PositiveInfinity;
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
            double d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    Tensor Input(GoldenCase c, string name, bool requiresGrad = false)
    {
        var t = Tensor.FromArray(device, c.F(name), c.Shape(name));
        t.RequiresGrad = requiresGrad;
        return t;
    }

    /// <summary>A parameter-like tensor with a zeroed gradient slot.</summary>
    Tensor Param(GoldenCase c, string name)
    {
        var t = Input(c, name, requiresGrad: true);
        t.Grad = Tensor.Zeros(device, t.Shape);
        return t;
    }

    static void ReleaseAll(params Tensor?[] tensors)
    {
        foreach (var t in tensors)
        {
            t?.Grad?.Release();
            t?.Release();
        }
    }

    /// <summary>Backward from <paramref name="y"/> with upstream gradient gy; returns the gradient of <paramref name="x"/>.</summary>
    Tensor BackwardTo(GoldenCase c, Tensor y, Tensor x)
    {
        using var gy = Input(c, "gy");
        return device.Tape.Backward(y, gy, x)[0] ?? throw new InvalidOperationException("no gradient reached the input");
    }

    void Conv2d(GoldenCase c, Check check)
    {
        int stride = c.Params.GetProperty("stride")[0].GetInt32(), padding = c.Params.GetProperty("padding")[0].GetInt32();
        var x = Input(c, "x", requiresGrad: true);
        var w = Param(c, "w");
        var b = c.Has("b") ? Param(c, "b") : null;
        var y = Functional.Conv2d(x, w, b, stride, padding);
        check("y", y.ToArray(), 1e-5);
        var gx = BackwardTo(c, y, x);
        check("gx", gx.ToArray(), 1e-5);
        check("gw", w.Grad!.ToArray(), 1e-5);
        if (b is not null) check("gb", b.Grad!.ToArray(), 1e-5);
        ReleaseAll(x, w, b, y, gx);
    }

    void BatchNormTrain(GoldenCase c, Check check)
    {
        int channels = c.Int("C");
        float eps = (float)c.Double("eps"), momentum = (float)c.Double("momentum");
        var x = Input(c, "x", requiresGrad: true);
        var gamma = Param(c, "gamma");
        var beta = Param(c, "beta");
        var runningMean = Input(c, "running_mean_in");
        var runningVar = Input(c, "running_var_in");
        var mean = Tensor.Empty(device, channels);
        var invstd = Tensor.Empty(device, channels);
        Functional.BatchStatistics(x, eps, mean, invstd);
        Functional.UpdateRunningStatistics(mean, invstd, c.Int("M"), eps, momentum, runningMean, runningVar);
        var y = Functional.BatchNorm2d(x, gamma, beta, mean, invstd, batchStatistics: true);
        check("y", y.ToArray(), 1e-5);
        check("batch_mean", mean.ToArray(), 1e-5);
        check("batch_invstd", invstd.ToArray(), 1e-5);
        check("running_mean_out", runningMean.ToArray(), 1e-5);
        check("running_var_out", runningVar.ToArray(), 1e-5);
        var gx = BackwardTo(c, y, x);
        check("gx", gx.ToArray(), 1e-4); // the manifest: gx involves cancellation, rel 1e-4
        check("ggamma", gamma.Grad!.ToArray(), 1e-5);
        check("gbeta", beta.Grad!.ToArray(), 1e-5);
        ReleaseAll(x, gamma, beta, runningMean, runningVar, mean, invstd, y, gx);
    }

    void BatchNormEval(GoldenCase c, Check check)
    {
        int channels = c.Int("C");
        float eps = (float)c.Double("eps");
        var x = Input(c, "x", requiresGrad: true);
        var gamma = Param(c, "gamma");
        var beta = Param(c, "beta");
        var runningMean = Input(c, "running_mean");
        var runningVar = Input(c, "running_var");
        var mean = Tensor.Empty(device, channels);
        var invstd = Tensor.Empty(device, channels);
        Functional.EvalStatistics(runningMean, runningVar, eps, mean, invstd);
        var y = Functional.BatchNorm2d(x, gamma, beta, mean, invstd, batchStatistics: false);
        check("y", y.ToArray(), 1e-6);
        var gx = BackwardTo(c, y, x);
        check("gx", gx.ToArray(), 1e-6);
        check("ggamma", gamma.Grad!.ToArray(), 1e-6);
        check("gbeta", beta.Grad!.ToArray(), 1e-6);
        ReleaseAll(x, gamma, beta, runningMean, runningVar, mean, invstd, y, gx);
    }

    void Unary(GoldenCase c, Func<Tensor, Tensor> op, Check check, double tolerance)
    {
        var x = Input(c, "x", requiresGrad: true);
        var y = op(x);
        check("y", y.ToArray(), tolerance);
        var gx = BackwardTo(c, y, x);
        check("gx", gx.ToArray(), tolerance);
        ReleaseAll(x, y, gx);
    }

    void Linear(GoldenCase c, Check check)
    {
        var x = Input(c, "x", requiresGrad: true);
        var w = Param(c, "w");
        var b = Param(c, "b");
        var y = Functional.Linear(x, w, b);
        check("y", y.ToArray(), 1e-5);
        var gx = BackwardTo(c, y, x);
        check("gx", gx.ToArray(), 1e-5);
        check("gw", w.Grad!.ToArray(), 1e-5);
        check("gb", b.Grad!.ToArray(), 1e-5);
        ReleaseAll(x, w, b, y, gx);
    }

    void CrossEntropy(GoldenCase c, Check check)
    {
        var logits = Input(c, "logits", requiresGrad: true);
        var labels = Tensor.FromArray(device, c.I("labels"), c.Shape("labels"));
        var probs = Tensor.Empty(device, logits.Shape);
        var loss = Tensor.Empty(device, 1);
        device.Run(k => k.CrossEntropy.Forward(logits[0], logits[1], logits.View, labels.IntView, probs.View, loss.View));
        check("probs", probs.ToArray(), 1e-6);
        var tapeLoss = Functional.CrossEntropy(logits, labels);
        check("loss", tapeLoss.ToArray(), 1e-6);
        using var one = Tensor.FromArray(device, [1f], 1);
        var g = device.Tape.Backward(tapeLoss, one, logits)[0]!;
        check("glogits", g.ToArray(), 1e-6);
        ReleaseAll(logits, labels, probs, loss, tapeLoss, g);
    }

    void Sgd(GoldenCase c, Check check)
    {
        var settings = new SgdSettings((float)c.Double("lr"), (float)c.Double("momentum"), (float)c.Double("weight_decay"));
        int steps = c.Int("steps");
        var w0 = c.F("w0");
        var allGrads = c.F("grads");
        using var w = Tensor.FromArray(device, w0, w0.Length);
        using var buffer = Tensor.Zeros(device, w0.Length);
        var after = new float[allGrads.Length];
        for (int s = 0; s < steps; s++)
        {
            using var g = Tensor.FromArray(device, allGrads[(s * w0.Length)..((s + 1) * w0.Length)], w0.Length);
            device.Run(k => k.Sgd.Step(settings.LearningRate, settings.Momentum, settings.WeightDecay, w.View, g.View, buffer.View, w0.Length, firstStep: s == 0));
            Array.Copy(w.ToArray(), 0, after, s * w0.Length, w0.Length);
        }
        check("w_after", after, 1e-6);
    }

    /// <summary>A reversible block with F and G built from the case's description, run reconstructing and with stored activations.</summary>
    void ReversibleBlock(GoldenCase c, Check check)
    {
        foreach (bool reconstruct in new[] { true, false })
        {
            var f = SubNetwork(c, c.Params.GetProperty("F").GetString()!);
            var g = SubNetwork(c, c.Params.GetProperty("G").GetString()!);
            var sequence = new ReversibleSequence([Reversible.ReversibleBlock.Additive(f, g)]) { Reconstruct = reconstruct };
            using var store = ParameterStore.Allocate(device, sequence, seed: 0);
            var byPath = sequence.NamedParameters().ToDictionary(p => p.Path, p => p.Parameter);
            foreach (var (tensorName, tensor) in c.Tensors.Where(t => t.Value.Role.StartsWith("parameter")))
                byPath[ModulePath(tensorName)].Value.CopyFrom(tensor.Floats!);
            var x = Input(c, "x", requiresGrad: true);
            var y = sequence.Forward(x);
            check("y", y.ToArray(), 1e-5);
            var gx = BackwardTo(c, y, x);
            check("gx", gx.ToArray(), 1e-4);
            foreach (var (tensorName, _) in c.Tensors.Where(t => t.Value.Role.StartsWith("output") && t.Key.Contains('.')))
            {
                var (path, what) = GradientOrStatistic(tensorName);
                var p = byPath[path];
                check(tensorName, (what == "grad" ? p.Value.Grad! : p.Value).ToArray(), what == "grad" ? 1e-4 : 1e-5);
            }
            ReleaseAll(x, y, gx);
        }
    }

    /// <summary>"F.conv2.w" → "f.f.2.weight": the coupling's sub-network inside the block, indexed as in nn.Sequential.</summary>
    static string ModulePath(string tensorName)
    {
        var parts = tensorName.Split('.');
        string half = parts[0].ToLowerInvariant();
        string layer = new(parts[1].SkipWhile(char.IsLetter).ToArray()); // "conv2" -> "2"
        string field = parts[2] switch
        {
            "w" or "gw" or "gamma" or "ggamma" => "weight",
            "beta" or "gbeta" => "bias",
            "running_mean_out" => "running_mean",
            "running_var_out" => "running_var",
            var other => throw new InvalidDataException($"unknown reversible-block tensor field '{other}' in {tensorName}"),
        };
        return $"0.{half}.f.{layer}.{field}";
    }

    static (string Path, string What) GradientOrStatistic(string tensorName)
    {
        string field = tensorName.Split('.')[2];
        return (ModulePath(tensorName), field.StartsWith('g') ? "grad" : "value");
    }

    /// <summary>Builds "BN-ReLU-conv3x3[-BN-ReLU-conv3x3…]" on C/2 channels (conv pad 1, no bias).</summary>
    static Sequential SubNetwork(GoldenCase c, string description)
    {
        int half = c.Int("half");
        var net = new Sequential();
        foreach (var layer in description.Split('-'))
            net.Append(layer switch
            {
                "BN" => new BatchNorm2d(half),
                "ReLU" => new ReLU(),
                "conv3x3" => new Layers.Conv2d(half, half, 3, stride: 1, padding: 1),
                _ => throw new InvalidDataException($"golden case {c.Name}: unknown layer '{layer}' in '{description}'"),
            });
        return net;
    }
}
