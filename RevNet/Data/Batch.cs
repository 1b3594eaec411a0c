using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// One batch ready for upload: <see cref="Images"/> is [Count, C, H, W] with (C, H, W) = <see cref="ImageShape"/>, and
/// <see cref="Labels"/> [Count]; <see cref="Position"/> says which batch it is.
/// </summary>
public sealed record Batch(SamplerPosition Position, float[] Images, int[] Labels, (int Channels, int Height, int Width) ImageShape)
{
    /// <summary>Images in the batch (the last one of an epoch may be short).</summary>
    public int Count => Labels.Length;

    /// <summary>The images [Count, C, H, W] and labels [Count] on <paramref name="device"/>, freed together when the result is disposed.</summary>
    public BatchTensors ToTensors(Device device)
    {
        var images = Tensor.FromArray(device, Images, Count, ImageShape.Channels, ImageShape.Height, ImageShape.Width);
        try
        {
            return new BatchTensors(images, Tensor.FromArray(device, Labels, Count));
        }
        catch
        {
            images.Release();
            throw;
        }
    }
}

/// <summary>A batch on a device: images [N, C, H, W] and labels [N]; disposing releases both.</summary>
public sealed class BatchTensors(Tensor images, Tensor labels) : IDisposable
{
    /// <summary>The images [N, C, H, W].</summary>
    public Tensor Images { get; } = images;

    /// <summary>The class labels [N] (int32).</summary>
    public Tensor Labels { get; } = labels;

    /// <summary>Releases the images and the labels.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
