namespace Vigil.Scripts;
