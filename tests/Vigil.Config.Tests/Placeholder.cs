namespace Vigil.Config.Tests;
