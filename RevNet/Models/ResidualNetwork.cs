using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// A RevNet or ResNet built from a <see cref="ModelConfig"/>. Module paths: stem, stage{1..3}.{unit}, head.
/// In a RevNet each stage is a <see cref="TransitionUnit"/> (keeps activations) followed by a
/// <see cref="ReversibleSequence"/> of the remaining units (keeps only its output when reconstructing).
/// </summary>
public sealed class ResidualNetwork : Module
{
    readonly Module stem;
    readonly Sequential head;
    readonly List<Sequential> stages = new();

    /// <summary>The network <paramref name="config"/> describes, parameters unallocated (<see cref="ParameterStore.Allocate"/>); a RevNet starts reconstructing, with BN-ReLU runs recomputed.</summary>
    /// <exception cref="ArgumentException">The configuration is inconsistent: unit counts and widths per stage that do not match, strides other than 1 or 2, odd widths in a RevNet.</exception>
    public ResidualNetwork(ModelConfig config)
    {
        Validate(config);
        Config = config;
        // In a RevNet the stem is recomputed with the transition units: it then keeps only the images, held anyway.
        var stemLayers = new Sequential(
            new Conv2d(config.InputChannels, config.StemChannels, 3, config.StemStride, 1),
            new BatchNorm2d(config.StemChannels),
            new ReLU());
        stem = Add<Module>("stem", config.Reversible ? new Recomputed(stemLayers, keepPaths: true) : stemLayers);
        int inChannels = config.StemChannels;
        for (int s = 0; s < config.UnitsPerStage.Length; s++)
        {
            int stride = s == 0 ? config.FirstStageStride : 2, outChannels = config.StageChannels[s];
            int inner = config.Bottleneck ? config.BottleneckChannels![s] : 0;
            var stage = new Sequential();
            if (config.Reversible)
            {
                stage.Append("0", new Recomputed(RevNetTransition(inChannels, outChannels, inner, stride, leading: s > 0, config.Bottleneck)));
                var blocks = Enumerable.Range(1, config.UnitsPerStage[s] - 1)
                    .Select(_ => ReversibleBlock.Additive(RevNetBranch(outChannels, outChannels, inner, 1, true, config.Bottleneck),
                                                   RevNetBranch(outChannels, outChannels, inner, 1, true, config.Bottleneck)));
                stage.Append("rev", new ReversibleSequence(blocks));
            }
            else
            {
                for (int u = 0; u < config.UnitsPerStage[s]; u++)
                {
                    int unitIn = u == 0 ? inChannels : outChannels, unitStride = u == 0 ? stride : 1;
                    var branch = config.Bottleneck
                        ? ResidualBranch.Bottleneck(unitIn, inner, outChannels, unitStride, leadingActivation: s > 0 || u > 0)
                        : ResidualBranch.Basic(unitIn, outChannels, unitStride, leadingActivation: s > 0 || u > 0);
                    stage.Append(new ResidualUnit(branch, Shortcut.For(unitIn, outChannels, unitStride, config.Bottleneck)));
                }
            }
            stages.Add(Add($"stage{s + 1}", stage));
            inChannels = outChannels;
        }
        head = Add("head", new Sequential(new BatchNorm2d(inChannels), new ReLU(), new GlobalAvgPool(), new Linear(inChannels, config.Classes)));
        RecomputeBatchNormRelu = config.Reversible;
    }

    /// <summary>The configuration the network was built from.</summary>
    public ModelConfig Config { get; }

    /// <summary>The runs of reversible blocks, one per stage (empty for a ResNet).</summary>
    public IEnumerable<ReversibleSequence> ReversibleSequences => Modules().OfType<ReversibleSequence>();

    /// <summary>Rebuild reversible blocks' inputs in backward (true, the default for a RevNet) or keep their activations (false).</summary>
    public bool Reconstruct
    {
        get => ReversibleSequences.All(r => r.Reconstruct);
        set
        {
            foreach (var r in ReversibleSequences) r.Reconstruct = value;
        }
    }

    /// <summary>
    /// Run every BN-ReLU that feeds a convolution (and the stem's and head's BN-ReLU) as one op that keeps only its input and
    /// recomputes the rest in backward (<see cref="Sequential.RecomputeBatchNormRelu"/>): the same results, two fewer saved
    /// tensors each. On by default for a RevNet; the stored-activation baseline turns it off to keep everything.
    /// </summary>
    public bool RecomputeBatchNormRelu
    {
        get => Modules().OfType<Sequential>().All(s => s.RecomputeBatchNormRelu);
        set
        {
            foreach (var s in Modules().OfType<Sequential>()) s.RecomputeBatchNormRelu = value;
        }
    }

    /// <summary>
    /// All three switches at once, as `revnet train` offers them (<see cref="ActivationMemory"/>); reading it gives the mode
    /// the switches amount to. A ResNet has nothing to rebuild: any mode leaves it storing everything.
    /// </summary>
    public ActivationMemory Memory
    {
        get => !Config.Reversible || !Reconstruct ? ActivationMemory.Stored
            : RecomputeTransitions ? ActivationMemory.ReconstructAndRecompute : ActivationMemory.Reconstruct;
        set
        {
            bool rebuild = value != ActivationMemory.Stored && Config.Reversible;
            Reconstruct = rebuild;
            RecomputeBatchNormRelu = rebuild;
            RecomputeTransitions = value == ActivationMemory.ReconstructAndRecompute && Config.Reversible;
        }
    }

    /// <summary>
    /// Also recompute the stem and the non-reversible transition units in backward (gradient checkpointing) instead of
    /// keeping their activations: beyond the paper, for the least memory; off by default.
    /// </summary>
    public bool RecomputeTransitions
    {
        get => Modules().OfType<Recomputed>().Any(r => r.Enabled);
        set
        {
            foreach (var r in Modules().OfType<Recomputed>()) r.Enabled = value;
        }
    }

    /// <summary>Which units are reversible and which keep their activations, one line per stage.</summary>
    public IEnumerable<string> Describe()
    {
        for (int s = 0; s < stages.Count; s++)
        {
            var rev = stages[s].Modules().OfType<ReversibleSequence>().FirstOrDefault();
            int ordinary = stages[s].Layers.Count(l => l is not ReversibleSequence);
            string keep = RecomputeTransitions ? "keep only their input (recomputed)" : "keep activations";
            yield return $"stage{s + 1}: {ordinary} ordinary unit(s) {keep}, {rev?.Blocks.Count ?? 0} reversible block(s)";
        }
    }

    /// <summary>Logits [N, classes] for images [N, <see cref="ModelConfig.InputChannels"/>, H, W] (borrowed); the caller owns the result.</summary>
    /// <exception cref="ArgumentException">The input is not 4-D with the configured channels.</exception>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x[1] != Config.InputChannels)
            throw new ArgumentException($"{Config.Name}: expected input [N,{Config.InputChannels},H,W], got {x.ShapeString}");
        Tensor current = stem.Forward(x);
        foreach (var stage in stages)
        {
            var next = stage.Forward(current);
            current.Release();
            current = next;
        }
        var logits = head.Forward(current);
        current.Release();
        return logits;
    }

    /// <summary>RevNet F/G: each acts on half the channels (and half the bottleneck width).</summary>
    static Sequential RevNetBranch(int inChannels, int outChannels, int inner, int stride, bool leading, bool bottleneck) =>
        bottleneck
            ? ResidualBranch.Bottleneck(inChannels / 2, inner / 2, outChannels / 2, stride, leading)
            : ResidualBranch.Basic(inChannels / 2, outChannels / 2, stride, leading);

    static TransitionUnit RevNetTransition(int inChannels, int outChannels, int inner, int stride, bool leading, bool bottleneck) =>
        new(RevNetBranch(inChannels, outChannels, inner, stride, leading, bottleneck),
            RevNetBranch(outChannels, outChannels, inner, 1, true, bottleneck),
            Shortcut.For(inChannels / 2, outChannels / 2, stride, bottleneck),
            Shortcut.For(inChannels / 2, outChannels / 2, stride, bottleneck));

    static void Validate(ModelConfig c)
    {
        if (c.UnitsPerStage.Length != c.StageChannels.Length || c.UnitsPerStage.Any(u => u < 1))
            throw new ArgumentException($"{c.Name}: need one positive unit count per stage, got [{string.Join(",", c.UnitsPerStage)}] for {c.StageChannels.Length} stages");
        if (c.StemStride is not (1 or 2) || c.FirstStageStride is not (1 or 2))
            throw new ArgumentException($"{c.Name}: stem and first-stage strides must be 1 or 2, got {c.StemStride} and {c.FirstStageStride}");
        if (c.InputChannels <= 0 || c.Classes <= 1)
            throw new ArgumentException($"{c.Name}: input channels must be positive and classes at least 2, got {c.InputChannels} and {c.Classes}");
        if (c.Reversible && (c.StemChannels % 2 != 0 || c.StageChannels.Any(ch => ch % 2 != 0)))
            throw new ArgumentException($"{c.Name}: a RevNet splits channels in halves; widths must be even");
        if (c.Bottleneck && (c.BottleneckChannels is null || c.BottleneckChannels.Length != c.StageChannels.Length))
            throw new ArgumentException($"{c.Name}: a bottleneck network needs one inner width per stage");
    }
}
