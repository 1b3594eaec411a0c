namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// An exact (fixed-point) reversible block met a value it cannot hold exactly: one out of the format's range or NaN, or an
/// affine coupling's information buffer full. The forward stops here rather than go on with values its backward could not
/// rebuild; the message names the block and what to change.
/// </summary>
public sealed class FixedPointOverflowException(string message) : InvalidOperationException(message);
