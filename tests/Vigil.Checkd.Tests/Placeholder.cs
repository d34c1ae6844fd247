namespace Vigil.Checkd.Tests;
