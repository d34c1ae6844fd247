namespace Vigil.Config;
