namespace RevNetIlgpu.Engine;

/// <summary>Training produced NaN or infinity; the message names the step and the first tensor that went bad.</summary>
public sealed class NonFiniteException(string message) : Exception(message);
