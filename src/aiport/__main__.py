from aiport.cli import main

main()
