using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Inference;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Export;

/// <summary>What the exported graph takes: images of one size, and the normalisation to bake in (null: none).</summary>
public sealed record OnnxInput(int Channels, int Height, int Width, ChannelNormalization? Normalization, IReadOnlyList<string> ClassNames);

/// <summary>
/// Exports a model's inference graph (evaluation mode: batch norm with running statistics) as an ONNX model. Input
/// <c>images</c> float32 [batch, C, H, W], pixels in [0, 1] with the training normalisation baked in as the first two
/// nodes; outputs <c>logits</c> and <c>probabilities</c> (softmax) [batch, classes]; the batch dimension is dynamic.
/// Every module of the built-in models maps to standard operators: Conv, BatchNormalization, Relu, Add, Slice and
/// Concat for the channel halves of reversible blocks and transition units, Exp and Mul for affine couplings, Pad
/// and AveragePool for the parameter-free downsampling shortcut, GlobalAveragePool, Flatten, Gemm. Class names and the
/// normalisation are also in the model's metadata. Weights keep their state_dict names.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX opset written unless another is asked for.</summary>
    public const int DefaultOpset = 17;

    /// <summary>The oldest opset the exporter writes.</summary>
    public const int MinOpset = 13;

    /// <summary>The newest opset the exporter writes.</summary>
    public const int MaxOpset = 21;

    /// <summary>The graph input: images float32 [batch, C, H, W], pixels in [0, 1].</summary>
    public const string InputName = "images";

    /// <summary>The graph output of logits [batch, classes].</summary>
    public const string LogitsName = "logits";

    /// <summary>The graph output of softmax probabilities [batch, classes].</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>The ONNX model of <paramref name="model"/> for inputs <paramref name="input"/>; <paramref name="metadata"/> is added to the model's metadata.</summary>
    public static ModelProto Build(Module model, OnnxInput input, int opset = DefaultOpset, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (opset is < MinOpset or > MaxOpset) throw new ArgumentException($"--opset must be in {MinOpset}..{MaxOpset}, got {opset}");
        var graph = new OnnxGraphBuilder();
        graph.UniqueName(InputName);
        var x = new Activation(InputName, input.Channels, input.Height, input.Width);
        if (input.Normalization is { } normalization) x = Normalize(graph, x, normalization);
        var logits = new ModuleExport(graph).Emit(model, "", x);
        if (logits.Height != 0 || logits.Channels != input.ClassNames.Count)
            throw new NotSupportedException($"the model's output is {logits.Describe()}, not [batch, {input.ClassNames.Count}] logits");
        // The last node is the classifier's: name its output as the graph's.
        graph.Graph.Node[^1].Output[0] = LogitsName;
        graph.Node("Softmax", ProbabilitiesName, [LogitsName], OnnxGraphBuilder.Int("axis", 1));

        graph.Graph.Name = model is ResidualNetwork network ? network.Config.Name : model.GetType().Name;
        graph.Graph.Input.Add(OnnxGraphBuilder.FloatTensor(InputName, "batch", input.Channels, input.Height, input.Width));
        graph.Graph.Output.Add(OnnxGraphBuilder.FloatTensor(LogitsName, "batch", input.ClassNames.Count));
        graph.Graph.Output.Add(OnnxGraphBuilder.FloatTensor(ProbabilitiesName, "batch", input.ClassNames.Count));
        var onnx = new ModelProto
        {
            IrVersion = IrVersionFor(opset),
            ProducerName = "revnet-ilgpu",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph.Graph,
            DocString = $"{graph.Graph.Name}: {InputName} float32 [batch, {input.Channels}, {input.Height}, {input.Width}] pixels in [0, 1]" +
                (input.Normalization is null ? "" : " (normalisation baked in)") + $" -> {LogitsName}, {ProbabilitiesName} [batch, {input.ClassNames.Count}]",
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        var properties = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [ClassifierMetadata.ClassNamesKey] = JsonSerializer.Serialize(input.ClassNames),
            ["input"] = $"{InputName}: float32 [batch, {input.Channels}, {input.Height}, {input.Width}], {(input.Channels == 1 ? "grey" : "RGB planes")}, pixels in [0, 1]",
        };
        if (input.Normalization is { } n)
        {
            properties["input_normalization"] = "baked in: the graph subtracts normalization_mean and divides by normalization_std per channel";
            properties["normalization_mean"] = string.Join(",", n.Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            properties["normalization_std"] = string.Join(",", n.Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        }
        foreach (var (key, value) in properties) onnx.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return onnx;
    }

    /// <summary>The ONNX model of a trained checkpoint: its input size, normalisation and class names, and where it came from in the metadata.</summary>
    public static ModelProto Build(TrainedClassifier classifier, int opset = DefaultOpset)
    {
        var source = classifier.CheckpointMetadata;
        var metadata = new[] { "model", "dataset", "step" }.Where(source.ContainsKey).ToDictionary(k => k, k => source[k]);
        var input = new OnnxInput(classifier.Channels, classifier.Metadata.Height, classifier.Metadata.Width, classifier.Normalization, classifier.Metadata.ClassNames);
        return Build(classifier.Model, input, opset, metadata);
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(ModelProto model, string path) => AtomicFile.Write(path, model.WriteTo);

    /// <summary>The ONNX IR version released with <paramref name="opset"/> (onnx.helper's VERSION_TABLE).</summary>
    static long IrVersionFor(int opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    /// <summary>x' = (x − mean[c]) · (1/std[c]), as <see cref="ChannelNormalization.Apply(Span{float}, int)"/> computes it.</summary>
    static Activation Normalize(OnnxGraphBuilder graph, Activation x, ChannelNormalization normalization)
    {
        if (normalization.Mean.Length != x.Channels)
            throw new ArgumentException($"normalisation has {normalization.Mean.Length} channels, the input {x.Channels}");
        long[] perChannel = [1, x.Channels, 1, 1];
        string mean = graph.Floats("normalization.mean", perChannel, normalization.Mean);
        string inverseStd = graph.Floats("normalization.inverse_std", perChannel, normalization.Std.Select(s => 1f / s).ToArray());
        string centred = graph.Node("Sub", "normalization.centred", [x.Name, mean]);
        return x with { Name = graph.Node("Mul", "normalization", [centred, inverseStd]) };
    }

    /// <summary>A value of the graph: its name and its shape without the batch dimension ([C,H,W], or [C] with H = W = 0).</summary>
    readonly record struct Activation(string Name, int Channels, int Height, int Width)
    {
        public string Describe() => Height == 0 ? $"[batch, {Channels}]" : $"[batch, {Channels}, {Height}, {Width}]";
    }

    /// <summary>Walks a module tree in forward order, appending each module's nodes.</summary>
    sealed class ModuleExport(OnnxGraphBuilder graph)
    {
        public Activation Emit(Module module, string path, Activation x) => module switch
        {
            Conv2d conv => Conv(conv, path, x, conv.Stride),
            BatchNorm2d norm => BatchNorm(norm, path, x),
            ReLU => x with { Name = graph.Node("Relu", path, [x.Name]) },
            GlobalAvgPool => GlobalAveragePool(path, x),
            Linear linear => Gemm(linear, path, x),
            Shortcut shortcut => ShortcutPath(shortcut, path, x),
            ResidualUnit unit => Sum(path, EmitChild(unit, "shortcut", path, x), EmitChild(unit, "f", path, x)),
            TransitionUnit unit => Transition(unit, path, x),
            ReversibleSequence sequence => OnHalves(path, x, halves => sequence.Blocks.Select((b, i) => (Block: b, Path: Join(path, i.ToString(CultureInfo.InvariantCulture))))
                .Aggregate(halves, (h, block) => BlockHalves(block.Block, block.Path, h))),
            ReversibleBlock block => OnHalves(path, x, halves => BlockHalves(block, path, halves)),
            Recomputed or Sequential or ResidualNetwork => module.Children.Aggregate(x, (current, child) => Emit(child.Child, Join(path, child.Name), current)),
            _ => throw new NotSupportedException($"ONNX export does not know the module {module.GetType().Name} at '{path}'"),
        };

        Activation EmitChild(Module parent, string name, string path, Activation x) => Emit(Child(parent, name), Join(path, name), x);

        static Module Child(Module parent, string name) =>
            parent.Children.FirstOrDefault(c => c.Name == name).Child
            ?? throw new NotSupportedException($"{parent.GetType().Name} has no child '{name}'");

        static string Join(string path, string name) => path.Length == 0 ? name : name.Length == 0 ? path : $"{path}.{name}";

        /// <summary>The module's own parameter or buffer (not a child's) as an initializer under its state_dict name.</summary>
        string Weight(Module module, string name, string path)
        {
            var parameter = module.NamedParameters().First(p => p.Path == name).Parameter;
            return graph.Floats(Join(path, name), parameter.Shape.Select(d => (long)d).ToArray(), parameter.Value.ToArray());
        }

        Activation Conv(Conv2d conv, string path, Activation x, int stride)
        {
            RequireMap(x, conv.InChannels, path);
            int kernel = conv.NamedParameters().First(p => p.Path == "weight").Parameter.Shape[2], pad = conv.Padding;
            List<string> inputs = [x.Name, Weight(conv, "weight", path)];
            if (conv.NamedParameters().Any(p => p.Path == "bias")) inputs.Add(Weight(conv, "bias", path));
            string y = graph.Node("Conv", path, inputs,
                OnnxGraphBuilder.Ints("kernel_shape", kernel, kernel), OnnxGraphBuilder.Ints("strides", stride, stride),
                OnnxGraphBuilder.Ints("pads", pad, pad, pad, pad));
            return new Activation(y, conv.OutChannels, (x.Height + 2 * pad - kernel) / stride + 1, (x.Width + 2 * pad - kernel) / stride + 1);
        }

        Activation BatchNorm(BatchNorm2d norm, string path, Activation x)
        {
            RequireMap(x, norm.Channels, path);
            return x with
            {
                Name = graph.Node("BatchNormalization", path,
                    [x.Name, Weight(norm, "weight", path), Weight(norm, "bias", path), Weight(norm, "running_mean", path), Weight(norm, "running_var", path)],
                    OnnxGraphBuilder.Float("epsilon", norm.Eps)),
            };
        }

        Activation GlobalAveragePool(string path, Activation x)
        {
            string pooled = graph.Node("GlobalAveragePool", path, [x.Name]);
            return new Activation(graph.Node("Flatten", path + ".flatten", [pooled], OnnxGraphBuilder.Int("axis", 1)), x.Channels, 0, 0);
        }

        Activation Gemm(Linear linear, string path, Activation x)
        {
            var weight = linear.NamedParameters().First(p => p.Path == "weight").Parameter;
            if (x.Height != 0 || x.Channels != weight.Shape[1])
                throw new NotSupportedException($"{path}: Linear({weight.Shape[1]}, {weight.Shape[0]}) gets {x.Describe()}");
            string y = graph.Node("Gemm", path, [x.Name, Weight(linear, "weight", path), Weight(linear, "bias", path)], OnnxGraphBuilder.Int("transB", 1));
            return new Activation(y, weight.Shape[0], 0, 0);
        }

        /// <summary>
        /// Identity; zero channels appended; a strided 1x1 projection (= subsample, then 1x1 conv); or the 2x2 average pool,
        /// ceil mode, with zero channels: one Pad (channels, and one zero row/column on odd sizes) then AveragePool, so every
        /// window divides by 4 as the engine's pool does on the zero-padded image.
        /// </summary>
        Activation ShortcutPath(Shortcut shortcut, string path, Activation x)
        {
            if (shortcut.Projection is { } projection) return Conv(projection, Join(path, "conv"), x, shortcut.Stride);
            int extra = shortcut.OutChannels - x.Channels;
            if (extra < 0) throw new NotSupportedException($"{path}: shortcut to {shortcut.OutChannels} channels gets {x.Describe()}");
            if (shortcut.Stride == 1 && extra == 0) return x;
            int oddRow = shortcut.Stride == 1 ? 0 : x.Height % 2, oddColumn = shortcut.Stride == 1 ? 0 : x.Width % 2;
            string pads = graph.Int64s(path + ".pads", 0, 0, 0, 0, 0, extra, oddRow, oddColumn);
            string padded = graph.Node("Pad", path + ".pad", [x.Name, pads]);
            var y = new Activation(padded, shortcut.OutChannels, x.Height + oddRow, x.Width + oddColumn);
            if (shortcut.Stride == 1) return y;
            if (shortcut.Stride != 2) throw new NotSupportedException($"{path}: pooled shortcut with stride {shortcut.Stride}");
            string pooled = graph.Node("AveragePool", path + ".pool", [padded], OnnxGraphBuilder.Ints("kernel_shape", 2, 2), OnnxGraphBuilder.Ints("strides", 2, 2));
            return new Activation(pooled, y.Channels, y.Height / 2, y.Width / 2);
        }

        /// <summary>y1 = s1(x1) + F(x2), y2 = s2(x2) + G(y1), concatenated (<see cref="TransitionUnit.ForwardHalvesConsuming"/>).</summary>
        Activation Transition(TransitionUnit unit, string path, Activation x) => OnHalves(path, x, halves =>
        {
            var (x1, x2) = halves;
            var y1 = Sum(Join(path, "y1"), EmitChild(unit, "shortcut1", path, x1), EmitChild(unit, "f", path, x2));
            var y2 = Sum(Join(path, "y2"), EmitChild(unit, "shortcut2", path, x2), EmitChild(unit, "g", path, y1));
            return (y1, y2);
        });

        /// <summary>y1 = couple_F(x1; x2), y2 = couple_G(x2; y1) (<see cref="ReversibleBlock.ForwardHalvesConsuming"/>).</summary>
        (Activation, Activation) BlockHalves(ReversibleBlock block, string path, (Activation X1, Activation X2) halves)
        {
            var y1 = Couple((Coupling)Child(block, "f"), Join(path, "f"), halves.X1, halves.X2);
            var y2 = Couple((Coupling)Child(block, "g"), Join(path, "g"), halves.X2, y1);
            return (y1, y2);
        }

        Activation Couple(Coupling coupling, string path, Activation x, Activation condition)
        {
            string Sub(string name) => EmitChild(coupling, name, path, condition).Name;
            string y = coupling switch
            {
                AdditiveCoupling => CouplingExport.Additive(graph, path, x.Name, Sub("f")),
                AffineCoupling => CouplingExport.Affine(graph, path, x.Name, Sub("s"), Sub("t")),
                _ => throw new NotSupportedException($"ONNX export does not know the coupling {coupling.GetType().Name} at '{path}'"),
            };
            return x with { Name = y };
        }

        /// <summary>Splits x into channel halves, runs <paramref name="halvesForward"/>, concatenates its two outputs.</summary>
        Activation OnHalves(string path, Activation x, Func<(Activation, Activation), (Activation, Activation)> halvesForward)
        {
            if (x.Height == 0 || x.Channels % 2 != 0) throw new NotSupportedException($"{path}: cannot split {x.Describe()} into channel halves");
            int half = x.Channels / 2;
            string axis = graph.Int64s(path + ".axis", 1);
            Activation Slice(string name, long start, long end) =>
                new(graph.Node("Slice", Join(path, name), [x.Name, graph.Int64s(Join(path, name) + ".start", start), graph.Int64s(Join(path, name) + ".end", end), axis]),
                    half, x.Height, x.Width);
            var (y1, y2) = halvesForward((Slice("x1", 0, half), Slice("x2", half, x.Channels)));
            if (y1.Height != y2.Height || y1.Width != y2.Width) throw new NotSupportedException($"{path}: halves {y1.Describe()} and {y2.Describe()} differ in size");
            return new Activation(graph.Node("Concat", Join(path, "y"), [y1.Name, y2.Name], OnnxGraphBuilder.Int("axis", 1)), y1.Channels + y2.Channels, y1.Height, y1.Width);
        }

        Activation Sum(string path, Activation a, Activation b)
        {
            if (a with { Name = "" } != b with { Name = "" }) throw new NotSupportedException($"{path}: cannot add {a.Describe()} and {b.Describe()}");
            return a with { Name = graph.Node("Add", path, [a.Name, b.Name]) };
        }

        static void RequireMap(Activation x, int channels, string path)
        {
            if (x.Height == 0 || x.Channels != channels) throw new NotSupportedException($"{path}: expects [batch, {channels}, H, W], gets {x.Describe()}");
        }
    }
}
