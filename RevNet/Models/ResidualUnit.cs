using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>An ordinary pre-activation residual unit (the ResNet baseline): y = shortcut(x) + F(x). Keeps its activations.</summary>
public sealed class ResidualUnit : Module
{
    readonly Module branch;
    readonly Shortcut shortcut;

    /// <summary>y = <paramref name="shortcut"/>(x) + <paramref name="branch"/>(x); both must give the same shape. State-dict names "f" and "shortcut".</summary>
    public ResidualUnit(Module branch, Shortcut shortcut)
    {
        this.branch = Add("f", branch);
        this.shortcut = Add("shortcut", shortcut);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        using var fx = branch.Forward(x);
        using var sx = shortcut.Forward(x);
        return Functional.Add(sx, fx);
    }
}
