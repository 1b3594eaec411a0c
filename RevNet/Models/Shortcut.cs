using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// The identity path of a residual unit when it changes resolution or width: basic units use a 2x2 average
/// pool plus zero channel padding (no parameters), bottleneck units a 1x1 projection of the input subsampled by the stride. Identity otherwise.
/// On odd sizes (28x28 images reach 7x7) the pool rounds up, like the strided 3x3 convolution beside it.
/// </summary>
public sealed class Shortcut : Module
{
    readonly Conv2d? projection;
    readonly int stride, outChannels;

    Shortcut(int stride, int outChannels, Conv2d? projection)
    {
        this.stride = stride;
        this.outChannels = outChannels;
        if (projection is not null) this.projection = Add("conv", projection);
    }

    /// <summary>The shortcut of a unit from <paramref name="inChannels"/> to <paramref name="outChannels"/> at <paramref name="stride"/>: the identity when neither changes; else, for a <paramref name="bottleneck"/> unit, a 1x1 projection of the input subsampled by the stride, and otherwise no parameters: a 2x2 average pool (stride 2) and zero channels appended.</summary>
    public static Shortcut For(int inChannels, int outChannels, int stride, bool bottleneck)
    {
        if (stride == 1 && inChannels == outChannels) return new Shortcut(1, outChannels, null);
        // The projection is a stride-1 1x1 convolution of the subsampled input: the same sums as a strided one, but what it
        // keeps for its weight gradient is stride² times smaller than the input.
        return bottleneck
            ? new Shortcut(stride, outChannels, new Conv2d(inChannels, outChannels, 1))
            : new Shortcut(stride, outChannels, null);
    }

    /// <summary>True when the shortcut passes its input through unchanged (same width, stride 1).</summary>
    public bool IsIdentity => projection is null && stride == 1;

    /// <summary>The subsampling stride: 1 or the unit's stride.</summary>
    public int Stride => stride;

    /// <summary>Output channels; the parameter-free shortcut pads the input's with zeros up to them.</summary>
    public int OutChannels => outChannels;

    /// <summary>The bottleneck's 1x1 projection (applied to the input subsampled by <see cref="Stride"/>), or null.</summary>
    public Conv2d? Projection => projection;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (projection is not null)
        {
            if (stride == 1) return projection.Forward(x);
            using var subsampled = Functional.Subsample(x, stride);
            return projection.Forward(subsampled);
        }
        if (stride == 1 && x[1] == outChannels) return x.Retain();
        if (stride == 1) return Functional.PadChannels(x, outChannels);
        return Functional.AvgPool2x2PadChannels(x, outChannels, ceil: true); // ceil: matches the strided conv on odd sizes
    }
}
