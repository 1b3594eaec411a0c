using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A module whose output is the channel concatenation of two halves it computes separately: a <see cref="Recomputed"/>
/// wrapper reruns it without the concatenation and seeds the halves with the halves of the output gradient.
/// </summary>
public interface IHalvesForward
{
    /// <summary>
    /// The output's two channel halves (owned), for input x, which it consumes: released as soon as it has been split, so a
    /// rerun in backward does not hold the whole input beside its halves.
    /// </summary>
    (Tensor Y1, Tensor Y2) ForwardHalvesConsuming(Tensor x);
}
