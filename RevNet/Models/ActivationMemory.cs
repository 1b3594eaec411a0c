namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// How a network trades compute for activation memory: the modes `revnet train` offers. Each sets the network's switches
/// explicitly (<see cref="ResidualNetwork.Reconstruct"/>, <see cref="ResidualNetwork.RecomputeTransitions"/>,
/// <see cref="ResidualNetwork.RecomputeBatchNormRelu"/>); a ResNet has only <see cref="Stored"/>.
/// </summary>
public enum ActivationMemory
{
    /// <summary>Keep every activation: the baseline (`--stored`; every ResNet).</summary>
    Stored,

    /// <summary>Rebuild reversible blocks' inputs in backward and recompute BN-ReLUs; non-reversible units keep theirs (the default).</summary>
    Reconstruct,

    /// <summary>As <see cref="Reconstruct"/>, and recompute the stem and the non-reversible units from their inputs too (`--recompute-transitions`).</summary>
    ReconstructAndRecompute,
}

/// <summary>The names of <see cref="ActivationMemory"/> modes as the CLI prints and parses them.</summary>
public static class ActivationMemoryNames
{
    /// <summary>The mode as the tools print it: "stored", "reconstruct" or "reconstruct+recompute".</summary>
    public static string Name(this ActivationMemory mode) => mode switch
    {
        ActivationMemory.Stored => "stored",
        ActivationMemory.Reconstruct => "reconstruct",
        _ => "reconstruct+recompute",
    };
}
