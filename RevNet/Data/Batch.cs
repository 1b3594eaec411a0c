namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// One batch ready for upload: <see cref="Images"/> is [Count, C, H, W] and <see cref="Labels"/>
/// [Count]; <see cref="Position"/> says which batch it is.
/// </summary>
public sealed record Batch(SamplerPosition Position, float[] Images, int[] Labels)
{
    /// <summary>Images in the batch (the last one of an epoch may be short).</summary>
    public int Count => Labels.Length;
}
