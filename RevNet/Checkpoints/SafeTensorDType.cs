namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>Element types this reader and writer support, named as in the safetensors header.</summary>
public enum SafeTensorDType
{
    /// <summary>IEEE-754 float32, little-endian: weights, gradients, optimizer moments.</summary>
    F32,

    /// <summary>Signed 64-bit integer, little-endian: step counters and similar.</summary>
    I64,
}
