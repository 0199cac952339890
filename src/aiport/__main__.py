from aiport.cli import main

# Guarded: engines that run in `spawn` child processes re-import the main module.
if __name__ == "__main__":
    main()
