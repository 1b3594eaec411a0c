using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A module whose output is the channel concatenation of two halves it computes separately: a <see cref="Recomputed"/>
/// wrapper reruns it without the concatenation and seeds the halves with the halves of the output gradient.
/// </summary>
public interface IHalvesForward
{
    /// <summary>The output's two channel halves (owned), for input x (borrowed).</summary>
    (Tensor Y1, Tensor Y2) ForwardHalves(Tensor x);
}
