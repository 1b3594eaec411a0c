using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>The distinct convolution shapes a model's forward pass runs, found by running it on the meta device.</summary>
public static class ModelConvShapes
{
    /// <summary>Every distinct <see cref="Conv2dShape"/> of <paramref name="config"/> at the given batch and image size, in first-use order.</summary>
    public static IReadOnlyList<Conv2dShape> Of(ModelConfig config, int batch, int image = 32)
    {
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}");
        using var device = Device.Create("meta");
        var shapes = new List<Conv2dShape>();
        device.Conv2dForward += s =>
        {
            if (!shapes.Contains(s)) shapes.Add(s);
        };
        var model = new ResidualNetwork(config);
        using var store = ParameterStore.Allocate(device, model, seed: 0);
        using var x = Tensor.Empty(device, batch, config.InputChannels, image, image);
        using var logits = model.Forward(x);
        return shapes;
    }
}
