namespace RevNetIlgpu.Tests.Support;

/// <summary>A clock that stands still until a test moves it, so timing decisions are exact and independent of the machine.</summary>
internal sealed class ManualClock : TimeProvider
{
    long ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => ticks;

    public void Advance(double seconds) => ticks += (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
}
