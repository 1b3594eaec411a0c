using NUnit.Framework;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Tests.Kernels.Host;

// Every kernel test fixture again with the host backend's kernels behind the same contracts, at every SIMD level this
// processor runs (an AVX-512 machine also runs the Vector256 and scalar code every older processor runs): the float64
// references, finite differences, PyTorch golden cases, determinism and bad-input checks all apply to them.
// (GEMM and group-reduction fixtures test ILGPU-only machinery and have no host form.)

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class BatchNormKernelsOnHostTests(SimdLevel level) : BatchNormKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class ChannelKernelsOnHostTests(SimdLevel level) : ChannelKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class Conv2dKernelsOnHostTests(SimdLevel level) : Conv2dKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class CrossEntropyKernelsOnHostTests(SimdLevel level) : CrossEntropyKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class ElementwiseKernelsOnHostTests(SimdLevel level) : ElementwiseKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class LinearKernelsOnHostTests(SimdLevel level) : LinearKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class PoolKernelsOnHostTests(SimdLevel level) : PoolKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class ReluKernelsOnHostTests(SimdLevel level) : ReluKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class SgdKernelsOnHostTests(SimdLevel level) : SgdKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}
