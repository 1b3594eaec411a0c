using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels.Host;

/// <summary>
/// One Winograd minimal-filtering algorithm F(m x m, 3x3) (Lavin and Gray 2016): an m x m output tile from an
/// α x α input tile, α = m + 2, as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. The transforms act on registers of tiles
/// (<see cref="IWinogradVector{TSelf}"/>), one tile per lane, and each 2-D transform is a 1-D one along rows and then
/// along columns (inputs) or along columns and then rows (outputs). A row of Count input tiles arrives as the m floats
/// each tile starts with, side by side, and the same shifted by m (the α − m floats a tile shares with its right
/// neighbour come first there); a row of outputs leaves as m floats per tile, side by side.
/// </summary>
internal unsafe interface IWinogradTile
{
    /// <summary>Outputs per tile side.</summary>
    static abstract int M { get; }

    /// <summary>Inputs per tile side: M + 2.</summary>
    static abstract int Alpha { get; }

    /// <summary>G [Alpha, 3], row-major: the filter transform (applied in float64).</summary>
    static abstract ReadOnlySpan<double> FilterTransform { get; }

    /// <summary>
    /// Bᵀ along one input row of Count tiles, given as M registers of M·Count floats: tile l's input j is float M·l + j
    /// of the registers at <paramref name="starts"/> (each moved by <paramref name="offset"/> floats) for j &lt; M, and
    /// float M·l + j − M of those at <paramref name="shifted"/> past that; transformed value k goes to
    /// <paramref name="destination"/>[k·stride + l].
    /// </summary>
    static abstract void InputRow<T>(float** starts, float** shifted, nint offset, float* destination, int stride) where T : struct, IWinogradVector<T>;

    /// <summary>Bᵀ along a column: Alpha registers <paramref name="sourceStride"/> apart in, Alpha out.</summary>
    static abstract void InputColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T>;

    /// <summary>
    /// A (= (Aᵀ)ᵀ, the transpose of the output transform) along one row of Count output-gradient tiles, given as M
    /// registers of M·Count floats (tile l's values at M·l … M·l + M − 1; each register moved by <paramref name="offset"/>
    /// floats): value i to <paramref name="destination"/>[i·stride].
    /// The weight gradient's transform of gy, since Σ_tiles ⟨g, Aᵀ X A⟩ = Σ_tiles ⟨A g Aᵀ, X⟩.
    /// </summary>
    static abstract void GradientRow<T>(float** registers, nint offset, float* destination, int stride) where T : struct, IWinogradVector<T>;

    /// <summary>A along a column: M registers <paramref name="sourceStride"/> apart in, Alpha out.</summary>
    static abstract void GradientColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T>;

    /// <summary>Aᵀ along a column: Alpha registers in, M out.</summary>
    static abstract void OutputColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T>;

    /// <summary>
    /// Aᵀ along a row of Count tiles plus <paramref name="bias"/>: Alpha registers in, and M·Count floats out, tile after
    /// tile as they lie in an output row, register q to <paramref name="destinations"/>[q] + <paramref name="offset"/>.
    /// </summary>
    static abstract void OutputRow<T>(float* source, int sourceStride, T bias, float** destinations, nint offset) where T : struct, IWinogradVector<T>;
}

/// <summary>
/// F(2x2, 3x3) on the points 0, 1, −1, ∞: 16 products per 4 outputs, transforms of additions only, and about the
/// error of the direct convolution.
/// </summary>
internal readonly unsafe struct WinogradF2 : IWinogradTile
{
    public static int M => 2;

    public static int Alpha => 4;

    public static ReadOnlySpan<double> FilterTransform =>
    [
        1, 0, 0,
        0.5, 0.5, 0.5,
        0.5, -0.5, 0.5,
        0, 0, 1,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputRow<T>(float** starts, float** shifted, nint offset, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T.Deinterleave(T.Load(starts[0] + offset), T.Load(starts[1] + offset), out var d0, out var d1);
        T.Deinterleave(T.Load(shifted[0] + offset), T.Load(shifted[1] + offset), out var d2, out var d3);
        Input(d0, d1, d2, d3, destination, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T> =>
        Input(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride), destination, destinationStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T>
    {
        Output(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride), out var y0, out var y1);
        T.Store(y0, destination);
        T.Store(y1, destination + destinationStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputRow<T>(float* source, int sourceStride, T bias, float** destinations, nint offset) where T : struct, IWinogradVector<T>
    {
        Output(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride), out var y0, out var y1);
        T.Interleave(y0 + bias, y1 + bias, out var low, out var high);
        T.Store(low, destinations[0] + offset);
        T.Store(high, destinations[1] + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientRow<T>(float** registers, nint offset, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T.Deinterleave(T.Load(registers[0] + offset), T.Load(registers[1] + offset), out var g0, out var g1);
        Gradient(g0, g1, destination, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T> =>
        Gradient(T.Load(source), T.Load(source + sourceStride), destination, destinationStride);

    // A = [1 0; 1 1; 1 −1; 0 −1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Gradient<T>(T g0, T g1, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T.Store(g0, destination);
        T.Store(g0 + g1, destination + stride);
        T.Store(g0 - g1, destination + 2 * stride);
        T.Store(T.Broadcast(0f) - g1, destination + 3 * stride);
    }

    // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Input<T>(T d0, T d1, T d2, T d3, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T.Store(d0 - d2, destination);
        T.Store(d1 + d2, destination + stride);
        T.Store(d2 - d1, destination + 2 * stride);
        T.Store(d1 - d3, destination + 3 * stride);
    }

    // Aᵀ = [1 1 1 0; 0 1 −1 −1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Output<T>(T m0, T m1, T m2, T m3, out T y0, out T y1) where T : struct, IWinogradVector<T>
    {
        y0 = m0 + m1 + m2;
        y1 = m1 - m2 - m3;
    }
}

/// <summary>
/// F(4x4, 3x3) on the points 0, 1, −1, 2, −1/2, ∞: 36 products per 16 outputs. Lavin and Gray's points 0, ±1, ±2, ∞
/// need three fewer additions per 1-D transform, but −1/2 in place of −2 halved the largest error in a float32
/// simulation over 16-128 channels (about 2e-6 of the largest output against 4-9e-6; direct: 6e-7 to 1.6e-6), and
/// it takes the error of Winograd's grad-weight sums from above to below 1e-5.
/// </summary>
internal readonly unsafe struct WinogradF4 : IWinogradTile
{
    public static int M => 4;

    public static int Alpha => 6;

    public static ReadOnlySpan<double> FilterTransform =>
    [
        1, 0, 0,
        -1.0 / 3, -1.0 / 3, -1.0 / 3,
        1.0 / 3, -1.0 / 3, 1.0 / 3,
        1.0 / 15, 2.0 / 15, 4.0 / 15,
        -16.0 / 15, 8.0 / 15, -4.0 / 15,
        0, 0, 1,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputRow<T>(float** starts, float** shifted, nint offset, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        // Four registers of 4 floats per tile: split into evens and odds, then each again (stride 4 in two steps).
        T.Deinterleave(T.Load(starts[0] + offset), T.Load(starts[1] + offset), out var even0, out var odd0);
        T.Deinterleave(T.Load(starts[2] + offset), T.Load(starts[3] + offset), out var even1, out var odd1);
        T.Deinterleave(even0, even1, out var d0, out var d2);
        T.Deinterleave(odd0, odd1, out var d1, out var d3);
        T.Deinterleave(T.Load(shifted[0] + offset), T.Load(shifted[1] + offset), out var shiftedEven0, out var shiftedOdd0);
        T.Deinterleave(T.Load(shifted[2] + offset), T.Load(shifted[3] + offset), out var shiftedEven1, out var shiftedOdd1);
        T.Deinterleave(shiftedEven0, shiftedEven1, out var d4, out _);
        T.Deinterleave(shiftedOdd0, shiftedOdd1, out var d5, out _);
        Input(d0, d1, d2, d3, d4, d5, destination, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T> =>
        Input(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride),
            T.Load(source + 4 * sourceStride), T.Load(source + 5 * sourceStride), destination, destinationStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T>
    {
        Output(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride),
            T.Load(source + 4 * sourceStride), T.Load(source + 5 * sourceStride), out var y0, out var y1, out var y2, out var y3);
        T.Store(y0, destination);
        T.Store(y1, destination + destinationStride);
        T.Store(y2, destination + 2 * destinationStride);
        T.Store(y3, destination + 3 * destinationStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputRow<T>(float* source, int sourceStride, T bias, float** destinations, nint offset) where T : struct, IWinogradVector<T>
    {
        Output(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride),
            T.Load(source + 4 * sourceStride), T.Load(source + 5 * sourceStride), out var y0, out var y1, out var y2, out var y3);
        // Interleave by 4 as two interleaves by 2: (y0, y2) and (y1, y3) give the even and odd floats of the row.
        T.Interleave(y0 + bias, y2 + bias, out var even0, out var even1);
        T.Interleave(y1 + bias, y3 + bias, out var odd0, out var odd1);
        T.Interleave(even0, odd0, out var r0, out var r1);
        T.Interleave(even1, odd1, out var r2, out var r3);
        T.Store(r0, destinations[0] + offset);
        T.Store(r1, destinations[1] + offset);
        T.Store(r2, destinations[2] + offset);
        T.Store(r3, destinations[3] + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientRow<T>(float** registers, nint offset, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T.Deinterleave(T.Load(registers[0] + offset), T.Load(registers[1] + offset), out var even0, out var odd0);
        T.Deinterleave(T.Load(registers[2] + offset), T.Load(registers[3] + offset), out var even1, out var odd1);
        T.Deinterleave(even0, even1, out var g0, out var g2);
        T.Deinterleave(odd0, odd1, out var g1, out var g3);
        Gradient(g0, g1, g2, g3, destination, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientColumn<T>(float* source, int sourceStride, float* destination, int destinationStride) where T : struct, IWinogradVector<T> =>
        Gradient(T.Load(source), T.Load(source + sourceStride), T.Load(source + 2 * sourceStride), T.Load(source + 3 * sourceStride), destination, destinationStride);

    // A = [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −0.5 0.25 −0.125; 0 0 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Gradient<T>(T g0, T g1, T g2, T g3, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T sum02 = g0 + g2, sum13 = g1 + g3;
        T.Store(g0, destination);
        T.Store(sum02 + sum13, destination + stride);
        T.Store(sum02 - sum13, destination + 2 * stride);
        T.Store(T.MultiplyAdd(T.Broadcast(2f), g1, T.MultiplyAdd(T.Broadcast(4f), g2, T.MultiplyAdd(T.Broadcast(8f), g3, g0))), destination + 3 * stride);
        T.Store(T.MultiplyAdd(T.Broadcast(-0.5f), g1, T.MultiplyAdd(T.Broadcast(0.25f), g2, T.MultiplyAdd(T.Broadcast(-0.125f), g3, g0))), destination + 4 * stride);
        T.Store(g3, destination + 5 * stride);
    }

    // Bᵀ = [1 1.5 −2 −1.5 1 0; 0 −1 −2.5 −0.5 1 0; 0 1 0.5 −2.5 1 0; 0 −0.5 −1 0.5 1 0; 0 2 −1 −2 1 0; 0 1 1.5 −2 −1.5 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Input<T>(T d0, T d1, T d2, T d3, T d4, T d5, float* destination, int stride) where T : struct, IWinogradVector<T>
    {
        T half = T.Broadcast(0.5f), minusHalf = T.Broadcast(-0.5f), oneAndHalf = T.Broadcast(1.5f);
        T two = T.Broadcast(2f), minusTwo = T.Broadcast(-2f), minusTwoAndHalf = T.Broadcast(-2.5f);
        T d1MinusD3 = d1 - d3, d4MinusD2 = d4 - d2;
        T.Store(T.MultiplyAdd(oneAndHalf, d1MinusD3, T.MultiplyAdd(minusTwo, d2, d0 + d4)), destination);
        T.Store(T.MultiplyAdd(minusTwoAndHalf, d2, T.MultiplyAdd(minusHalf, d3, d4 - d1)), destination + stride);
        T.Store(T.MultiplyAdd(half, d2, T.MultiplyAdd(minusTwoAndHalf, d3, d4 + d1)), destination + 2 * stride);
        T.Store(T.MultiplyAdd(minusHalf, d1MinusD3, d4MinusD2), destination + 3 * stride);
        T.Store(T.MultiplyAdd(two, d1MinusD3, d4MinusD2), destination + 4 * stride);
        T.Store(T.MultiplyAdd(oneAndHalf, d2 - d4, T.MultiplyAdd(minusTwo, d3, d1 + d5)), destination + 5 * stride);
    }

    // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −0.5 0; 0 1 1 4 0.25 0; 0 1 −1 8 −0.125 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Output<T>(T m0, T m1, T m2, T m3, T m4, T m5, out T y0, out T y1, out T y2, out T y3) where T : struct, IWinogradVector<T>
    {
        T sum12 = m1 + m2, difference12 = m1 - m2;
        y0 = m0 + sum12 + (m3 + m4);
        y1 = T.MultiplyAdd(T.Broadcast(2f), m3, T.MultiplyAdd(T.Broadcast(-0.5f), m4, difference12));
        y2 = T.MultiplyAdd(T.Broadcast(4f), m3, T.MultiplyAdd(T.Broadcast(0.25f), m4, sum12));
        y3 = T.MultiplyAdd(T.Broadcast(8f), m3, T.MultiplyAdd(T.Broadcast(-0.125f), m4, difference12)) + m5;
    }
}
