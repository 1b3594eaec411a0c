using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// The switches of <see cref="ActivationMemory"/> and of exact reconstruction for any module tree, as
/// <see cref="ResidualNetwork.Memory"/> sets them for the built-in models: a user's own network gets the same modes.
/// </summary>
public static class ActivationMemorySwitches
{
    /// <summary>
    /// Sets every switch below <paramref name="model"/> for <paramref name="mode"/>: reversible sequences reconstruct (or store),
    /// BN-ReLU(-conv) runs are fused to recompute in backward (off when storing), and <see cref="Recomputed"/> units recompute
    /// only in <see cref="ActivationMemory.ReconstructAndRecompute"/>. A model without reversible blocks always stores.
    /// Returns the model.
    /// </summary>
    public static T WithActivationMemory<T>(this T model, ActivationMemory mode) where T : Module
    {
        bool rebuild = mode != ActivationMemory.Stored && model.HasReversibleBlocks();
        foreach (var m in model.Modules())
        {
            switch (m)
            {
                case ReversibleSequence sequence: sequence.Reconstruct = rebuild; break;
                case Sequential sequential: sequential.RecomputeBatchNormRelu = rebuild; break;
                case Recomputed recomputed: recomputed.Enabled = rebuild && mode == ActivationMemory.ReconstructAndRecompute; break;
            }
        }
        return model;
    }

    /// <summary>Sets <see cref="ReversibleSequence.Exact"/> on every sequence below <paramref name="model"/> (null: float32 couplings). Returns the model.</summary>
    public static T WithExactReconstruction<T>(this T model, FixedPointFormat? format) where T : Module
    {
        foreach (var sequence in model.Modules().OfType<ReversibleSequence>()) sequence.Exact = format;
        return model;
    }

    /// <summary>Whether any reversible block lies below <paramref name="model"/> (else there is nothing to reconstruct).</summary>
    public static bool HasReversibleBlocks(this Module model) => model.Modules().OfType<ReversibleSequence>().Any(s => s.Blocks.Count > 0);

    /// <summary>The modes `revnet train` offers for <paramref name="model"/>: stored alone without reversible blocks; with them the
    /// reconstructing ones first (reconstruct+recompute only where <see cref="Recomputed"/> units exist), then stored.</summary>
    public static IReadOnlyList<ActivationMemory> ModesOf(Module model) =>
        !model.HasReversibleBlocks() ? [ActivationMemory.Stored]
        : model.Modules().OfType<Recomputed>().Any() ? [ActivationMemory.Reconstruct, ActivationMemory.ReconstructAndRecompute, ActivationMemory.Stored]
        : [ActivationMemory.Reconstruct, ActivationMemory.Stored];
}
