namespace RevNetIlgpu.Tests.Kernels.Host;

// Every kernel test fixture again with the host kernels behind the same entry points (KernelContext.IsHost): the
// float64 references, finite differences, PyTorch golden cases, determinism and bad-input checks all apply to them.
// (GEMM and group-reduction fixtures test ILGPU-only machinery and have no host form.)

public class BatchNormKernelsOnHostTests : BatchNormKernelsTests
{
    protected override bool HostKernels => true;
}

public class ChannelKernelsOnHostTests : ChannelKernelsTests
{
    protected override bool HostKernels => true;
}

public class Conv2dKernelsOnHostTests : Conv2dKernelsTests
{
    protected override bool HostKernels => true;
}

public class CrossEntropyKernelsOnHostTests : CrossEntropyKernelsTests
{
    protected override bool HostKernels => true;
}

public class ElementwiseKernelsOnHostTests : ElementwiseKernelsTests
{
    protected override bool HostKernels => true;
}

public class LinearKernelsOnHostTests : LinearKernelsTests
{
    protected override bool HostKernels => true;
}

public class PoolKernelsOnHostTests : PoolKernelsTests
{
    protected override bool HostKernels => true;
}

public class ReluKernelsOnHostTests : ReluKernelsTests
{
    protected override bool HostKernels => true;
}

public class SgdKernelsOnHostTests : SgdKernelsTests
{
    protected override bool HostKernels => true;
}
