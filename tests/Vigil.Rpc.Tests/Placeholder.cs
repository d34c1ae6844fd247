namespace Vigil.Rpc.Tests;
