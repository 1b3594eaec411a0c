using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>The distinct convolution shapes a model's forward pass runs, found by running it on the meta device.</summary>
public static class ModelConvShapes
{
    /// <summary>Every distinct <see cref="Conv2dShape"/> of <paramref name="config"/> at the given batch and image size, in first-use order.</summary>
    public static IReadOnlyList<Conv2dShape> Of(ModelConfig config, int batch, int image = 32) =>
        CountsOf(config, batch, image).Select(c => c.Shape).ToList();

    /// <summary>Every distinct <see cref="Conv2dShape"/> of <paramref name="config"/> with how many times one forward pass runs it, in first-use order.</summary>
    public static IReadOnlyList<(Conv2dShape Shape, int Count)> CountsOf(ModelConfig config, int batch, int image = 32)
    {
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        using var device = Device.Create("meta");
        var shapes = new List<Conv2dShape>();
        var counts = new Dictionary<Conv2dShape, int>();
        device.Conv2dForward += s =>
        {
            if (!counts.ContainsKey(s)) shapes.Add(s);
            counts[s] = counts.GetValueOrDefault(s) + 1;
        };
        var model = new ResidualNetwork(config);
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var x = Tensor.Empty(device, batch, config.InputChannels, image, image);
        using var logits = model.Forward(x);
        return shapes.Select(s => (s, counts[s])).ToList();
    }
}
