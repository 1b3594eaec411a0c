using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Reversible;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.Tests.Support;

/// <summary>
/// The network a new user builds on their own (issue 16's example): a plain conv stem with no batch norm, a reversible
/// sequence whose F and G (or the affine couplings' S and T) are BN-ReLU-conv-BN-ReLU-conv <see cref="Sequential"/>s, then
/// BN-ReLU, global average pooling and a linear head. Module paths: 0 (stem), 1.{block} (sequence), 2..5 (head).
/// </summary>
public static class CustomRevNet
{
    public static Sequential Build(int channels, int width, int classes, int blocks = 3, bool affine = false)
    {
        int half = width / 2;
        Sequential Branch() => new(new BatchNorm2d(half), new ReLU(), new Conv2d(half, half, 3, 1, 1),
            new BatchNorm2d(half), new ReLU(), new Conv2d(half, half, 3, 1, 1));
        var sequence = new ReversibleSequence(Enumerable.Range(0, blocks)
            .Select(_ => affine ? ReversibleBlock.Affine(Branch(), Branch(), Branch(), Branch()) : ReversibleBlock.Additive(Branch(), Branch())));
        // An affine coupling's S and T start at zero (a pure scaling); checks want every path of the coupling in play, so
        // their last convolutions are drawn at random here, as a trained coupling's are.
        foreach (var conv in sequence.Modules().OfType<AffineCoupling>().SelectMany(c => c.Children).Select(c => c.Child.Modules().OfType<Conv2d>().Last()))
            conv.Weight.Init = Parameter.KaimingNormalFanOut;
        return new Sequential(new Conv2d(channels, width, 3, 1, 1), sequence,
            new BatchNorm2d(width), new ReLU(), new GlobalAvgPool(), new Linear(width, classes));
    }

    /// <summary>As a <see cref="ModelBlueprint"/> on square images.</summary>
    public static ModelBlueprint Blueprint(int channels, int width, int classes, int image, int blocks = 3, bool affine = false) =>
        new($"custom-revnet{(affine ? "-affine" : "")}", () => Build(channels, width, classes, blocks, affine), channels, image, image, classes);
}
