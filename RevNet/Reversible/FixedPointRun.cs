using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// What the exact (fixed-point) couplings of one forward of reversible blocks share: one overflow flag per slot (three per
/// block: rounding its input, coupling F, coupling G), read once after the forward, and the information buffer of exact
/// affine couplings (<see cref="ExactScaleShift"/>: one 64-bit word per element of a half, allocated at the first affine
/// coupling), which a reconstructing backward pops the blocks' bits off again, last block first. Owns both.
/// </summary>
public sealed class FixedPointRun : IDisposable
{
    readonly Tensor? flags;
    readonly Tensor[] slots;
    Tensor? information;
    bool disposed;

    FixedPointRun(Tensor? flags, Tensor? information)
    {
        this.flags = flags;
        this.information = information;
        slots = flags is null ? [] : Enumerable.Range(0, checked((int)flags.Length)).Select(i => flags.Slice(i, 1)).ToArray();
    }

    /// <summary>A forward's run over <paramref name="blocks"/> blocks: flags zeroed, no information yet.</summary>
    public static FixedPointRun ForForward(Device device, int blocks) => new(Tensor.Zeros(device, SlotsPerBlock * Math.Max(blocks, 1)), null);

    /// <summary>A backward's run: the information buffer its forward left (owned from here on), or none if no coupling was affine.</summary>
    public static FixedPointRun ForInverse(Tensor? information) => new(null, information);

    /// <summary>Flag slots per block: its input's rounding, coupling F, coupling G.</summary>
    public const int SlotsPerBlock = 3;

    /// <summary>The overflow flag (one int) of <paramref name="slot"/>; borrowed.</summary>
    public Tensor Flag(int slot) => flags is null
        ? throw new InvalidOperationException("fixed point: an inverse run checks no overflow")
        : slots[slot];

    /// <summary>The information buffer for halves shaped as <paramref name="half"/>: the forward's first call allocates it zeroed.</summary>
    public Tensor Information(Tensor half)
    {
        if (information is null)
        {
            if (flags is null) throw new InvalidOperationException("fixed point: an inverse run needs the information its forward pushed");
            information = Functional.InformationBuffer(half.Device, half.Shape);
        }
        if (information.Length != 2 * half.Length)
            throw new ArgumentException($"fixed point: the information buffer {information.ShapeString} does not fit halves {half.ShapeString}; every exact affine block of a run needs halves of one shape");
        return information;
    }

    /// <summary>Hands the information buffer (or null) to the caller, who then owns it.</summary>
    public Tensor? DetachInformation()
    {
        var held = information;
        information = null;
        return held;
    }

    /// <summary>The first slot whose flag is set and its code (<see cref="ExactScaleShift.OutOfRange"/>, <see cref="ExactScaleShift.BufferFull"/>), or null. Reads the flags once (a synchronisation).</summary>
    public (int Slot, int Code)? FirstOverflow()
    {
        if (flags is null) return null;
        var codes = flags.ToIntArray();
        int slot = Array.FindIndex(codes, c => c != 0);
        return slot < 0 ? null : (slot, codes[slot]);
    }

    /// <summary>Releases the flags and the information buffer (unless detached); a second call does nothing.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var slot in slots) slot.Release();
        flags?.Release();
        information?.Release();
        information = null;
    }
}
