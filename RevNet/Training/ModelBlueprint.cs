using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// A classifier as the gradient check, the memory profile and the batch planner take it, for any <see cref="Module"/>:
/// a name for reports, a factory that builds a fresh, unallocated copy (each check builds several), the shape of one
/// input image and the number of classes.
/// </summary>
public sealed record ModelBlueprint(string Name, Func<Module> Build, int Channels, int Height, int Width, int Classes)
{
    /// <summary>A built-in model (<see cref="ModelConfig"/>) on square images of side <paramref name="image"/>.</summary>
    public static ModelBlueprint Of(ModelConfig config, int image)
    {
        if (image < 4) throw new ArgumentException($"image size must be at least 4, got {image}");
        return new(config.Name, () => new ResidualNetwork(config), config.InputChannels, image, image, config.Classes);
    }

    /// <summary>[batch, channels, height, width].</summary>
    public int[] InputShape(int batch) => [batch, Channels, Height, Width];

    /// <summary>Uniform pixels in [−1, 1) and uniform labels for a batch, from <paramref name="seed"/> alone.</summary>
    public (float[] Pixels, int[] Labels) RandomBatch(int batch, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[(long)batch * Channels * Height * Width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        return (pixels, Enumerable.Range(0, batch).Select(_ => random.Next(Classes)).ToArray());
    }
}
